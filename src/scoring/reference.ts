/**
 * The reference a score is measured against: a registered identity's selfie summary (centroid,
 * count, pairwise spread: written by `train`, see registry.ts), or a folder of selfies analysed
 * on the spot with the selfie checker (only the photos `check` would use count).
 */
import { UsageError } from "../errors.js";
import { DESCRIPTOR_MODEL } from "./calibration.js";
import { getIdentity, embeddingCentroid, type Identity } from "../identity/registry.js";
import type { IdentityReference } from "./similarity.js";

/** At least this many usable selfies, or there is no spread to be relative to. */
export const MIN_REFERENCE_SELFIES = 2;

/** Reference from unit embeddings (pure): centroid plus pairwise statistics. */
export function referenceFromEmbeddings(label: string, embeddings: number[][]): IdentityReference | undefined {
  if (embeddings.length < MIN_REFERENCE_SELFIES) return undefined;
  const centroid = embeddingCentroid(embeddings);
  if (!centroid) return undefined;
  const sims: number[] = [];
  for (let i = 0; i < embeddings.length; i++) {
    for (let j = i + 1; j < embeddings.length; j++) {
      const a = embeddings[i]!;
      const b = embeddings[j]!;
      let dot = 0;
      for (let k = 0; k < a.length; k++) dot += (a[k] ?? 0) * (b[k] ?? 0);
      sims.push(dot);
    }
  }
  sims.sort((x, y) => x - y);
  const mean = sims.reduce((s, v) => s + v, 0) / sims.length;
  const p10 = sims[Math.max(0, Math.ceil(0.1 * sims.length) - 1)] ?? mean;
  return { label, centroid, count: embeddings.length, self: { mean, p10, min: sims[0] ?? mean } };
}

/** Reference from a registry entry (pure); undefined when training stored no selfie summary. */
export function referenceFromIdentity(identity: Identity): IdentityReference | undefined {
  const summary = identity.selfies.embedding;
  const spread = identity.selfies.selfSimilarity;
  if (!summary || !spread || summary.count < MIN_REFERENCE_SELFIES || summary.centroid.length === 0) return undefined;
  // Registered with another face model (faceres before issue 18): its numbers mean nothing to
  // this one's thresholds, so the caller measures the training images again.
  if (summary.model !== DESCRIPTOR_MODEL) return undefined;
  return {
    label: `identity ${identity.name}`,
    centroid: summary.centroid,
    count: summary.count,
    self: { mean: spread.mean, p10: spread.p10, min: spread.min },
  };
}

export interface ReferenceRequest {
  home: string;
  identity?: string;
  selfies?: string;
  signal?: AbortSignal;
}

/** Analyses a selfie folder with `check`'s rules and keeps the usable faces. */
async function referenceFromFolder(dir: string, label: string, home: string, signal?: AbortSignal): Promise<IdentityReference> {
  const { runCheck } = await import("../selfies/index.js");
  const report = await runCheck(dir, { home, ...(signal ? { signal } : {}) });
  const embeddings = report.images.filter((i) => i.verdict !== "reject" && i.embedding?.length).map((i) => i.embedding as number[]);
  const ref = referenceFromEmbeddings(label, embeddings);
  if (!ref) {
    throw new UsageError(`${label}: only ${embeddings.length} usable selfie${embeddings.length === 1 ? "" : "s"}; scoring needs at least ${MIN_REFERENCE_SELFIES} to know how alike your own photos are.`, {
      code: "E_SCORE_REFERENCE",
      hint: `run \`headshot check ${dir}\` to see which photos are left out, and add sharp photos of yourself alone`,
    });
  }
  return ref;
}

/** Resolves --identity NAME or --selfies DIR into a reference (exactly one must be given). */
/** Exactly one of --identity and --selfies: checked before any work starts. */
export function checkReferenceFlags(request: Pick<ReferenceRequest, "identity" | "selfies">): void {
  if (Boolean(request.identity) === Boolean(request.selfies)) {
    throw new UsageError(request.identity ? "pass either --identity or --selfies, not both" : "scoring needs a reference: whose likeness to measure", {
      code: "E_SCORE_REFERENCE",
      hint: "pass --identity <name> (a trained identity, see `headshot identities list`) or --selfies <dir> (a folder of your photos)",
    });
  }
}

export async function loadReference(request: ReferenceRequest): Promise<IdentityReference> {
  checkReferenceFlags(request);
  if (request.selfies) return referenceFromFolder(request.selfies, `selfies ${request.selfies}`, request.home, request.signal);
  const identity = await getIdentity(request.home, request.identity!);
  const ref = referenceFromIdentity(identity);
  if (ref) return ref;
  // Trained before selfie summaries were stored: measure its prepared training images instead.
  return referenceFromFolder(identity.dataset.dir, `identity ${identity.name}`, request.home, request.signal);
}
