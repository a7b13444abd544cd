/**
 * Who `gen` draws (README "Backends"): a registered identity (through the registry), reference
 * photos (--ref), or nobody (placeholders); and from that, where the LoRA comes from for the
 * chosen backend. A batch hands in the identity it already resolved (and the home it lives in).
 */
import { basename, join, resolve } from "node:path";
import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import type { GenOptions } from "../generation/prepare-plan.js";
import { closest } from "../util/did-you-mean.js";
import { loraSourceFor, normaliseLoraUrl, type IdentityLike } from "../generation/lora-source.js";
import type { GenerateOptions } from "./options.js";

/**
 * Reads a registered identity through the registry (src/identity/registry.ts). gen needs only the
 * words, the backend and where the LoRA lives, so a record the registry finds incomplete (an older
 * or hand-written identity.json) is still used when it has a trigger and a class word.
 */
export async function lookupIdentity(home: string, name: string): Promise<IdentityLike> {
  const { findIdentity, listIdentities } = await import("../identity/registry.js");
  try {
    const found = await findIdentity(home, name);
    if (found) return found as unknown as IdentityLike;
  } catch (error) {
    if (!(error instanceof UsageError && error.code === "E_IDENTITY_CORRUPT")) throw error;
    const raw = await readFile(join(home, "identities", name, "identity.json"), "utf8").catch(() => "");
    let data: Record<string, unknown> | undefined;
    try {
      data = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      data = undefined;
    }
    const classWord = data?.classWord ?? data?.class;
    if (data && typeof data.trigger === "string" && typeof classWord === "string") return { ...data, name, trigger: data.trigger, classWord };
    throw error;
  }
  const { identities } = await listIdentities(home);
  const guess = closest(name, identities.map((i) => i.name));
  throw new UsageError(`Unknown identity "${name}"`, {
    code: "E_IDENTITY_NOT_FOUND",
    hint: `${guess ? `did you mean ${guess}? ` : ""}train it first (headshot train ./selfies --name ${name}), or list them with: headshot identities list`,
  });
}

/** Words that stand for the person in reference mode (there is no trained trigger token). */
export const REFERENCE_SUBJECT = { trigger: "the", classWord: "person shown in the reference images" } as const;

export interface ResolvedSource {
  identity: IdentityLike | undefined;
  genIdentity: GenOptions["identity"];
  loraUrl: string | undefined;
  trainedVersion: string | undefined;
}

/** Applies the LoRA source rules (README "Backends"): what each backend needs from the identity. */
export async function resolveSource(cwd: string, home: string, options: GenerateOptions, known?: IdentityLike): Promise<ResolvedSource> {
  if (options.ref && options.identity) {
    throw new UsageError("Use either --identity (a trained LoRA) or --ref (reference photos, no training), not both", {
      code: "E_GEN_MODE",
      hint: "drop --ref to use the trained identity, or drop --identity to generate from the photos in --ref",
    });
  }
  if (options.ref && options.backend !== "replicate" && options.backend !== "test") {
    throw new UsageError("--ref (reference mode) runs on Replicate's FLUX.2 models", { code: "E_GEN_MODE", hint: "use --backend replicate with --ref" });
  }
  if (options.ref) {
    const name = `ref-${basename(resolve(cwd, options.ref)).replace(/[^A-Za-z0-9_-]/g, "-")}`;
    return { identity: undefined, genIdentity: { name, ...REFERENCE_SUBJECT }, loraUrl: undefined, trainedVersion: undefined };
  }
  const identity = known ?? (options.identity ? await lookupIdentity(home, options.identity) : undefined);
  const loraFlag = options.loraUrl ? normaliseLoraUrl(options.loraUrl) : undefined;
  if (!identity) {
    if (options.backend === "replicate" && !options.dryRun) {
      throw new UsageError("gen on Replicate needs a person: --identity <name> (trained LoRA) or --ref <dir> (reference photos)", {
        code: "E_GEN_NO_SUBJECT",
        hint: "headshot identities list shows trained identities; or try the free placeholders with --backend test",
      });
    }
    return { identity: undefined, genIdentity: undefined, loraUrl: loraFlag, trainedVersion: undefined };
  }
  const { trainedOn, trainedVersion, loraUrl } = loraSourceFor(identity, { backend: options.backend, model: options.model, loraFlag, dryRun: options.dryRun });
  return {
    identity,
    genIdentity: { name: identity.name, trigger: identity.trigger, classWord: identity.classWord, trainedOn },
    loraUrl,
    trainedVersion,
  };
}

