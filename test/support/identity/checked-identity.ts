/**
 * A registered identity whose selfie summary is what `train` stores (issue 9): `check` runs on a
 * real selfie folder with the real face models, and the identity keeps the set's verdict, its
 * self-similarity and the descriptor centroid. Nothing is trained: the LoRA path is a stub.
 */
import { runCheck } from "../../../src/selfies/index.js";
import { embeddingCentroid, saveIdentity, type Identity } from "../../../src/identity/registry.js";
import { DESCRIPTOR_MODEL } from "../../../src/scoring/calibration.js";

export interface CheckedIdentityOptions {
  home: string;
  /** The selfie folder `check` reads (also the dataset's source). */
  selfies: string;
  /** Where the (stub) LoRA would be. */
  lora: string;
  /** The prepared dataset folder recorded in the identity (not written). */
  dataset: string;
  name?: string;
  /** Fields that replace the defaults (e.g. `backend: "replicate"` with its `replicate` block). */
  extra?: Record<string, unknown>;
}

export async function registerCheckedIdentity(options: CheckedIdentityOptions): Promise<Identity> {
  const report = await runCheck(options.selfies, { home: options.home });
  const embeddings = report.images.filter((i) => i.verdict !== "reject" && i.embedding).map((i) => i.embedding!);
  const identity = {
    schemaVersion: 1,
    name: options.name ?? "jane",
    trigger: "ohwx",
    classWord: "woman",
    backend: "local",
    baseModel: "black-forest-labs/FLUX.1-dev",
    recipe: "flux-dev",
    lora: { path: options.lora, sha256: "0".repeat(64), bytes: 4 },
    training: { steps: 750, rank: 16, lr: 0.0001, resolutions: [1024] },
    dataset: { dir: options.dataset, hash: "x", images: 6, sourceDir: options.selfies },
    selfies: {
      verdict: report.set.verdict,
      usable: report.set.usable,
      total: report.set.total,
      selfSimilarity: report.set.selfSimilarity!,
      embedding: { model: DESCRIPTOR_MODEL, dims: embeddings[0]!.length, count: embeddings.length, centroid: embeddingCentroid(embeddings)! },
    },
    createdAt: "2026-11-27T06:00:00.000Z",
    ...options.extra,
  } as Identity;
  await saveIdentity(options.home, identity);
  return identity;
}
