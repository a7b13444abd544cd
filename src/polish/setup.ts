/**
 * From flags and the identity to the objects polish runs with: the face-pass backend (its target
 * chosen from what the identity has: a trained Replicate version, or a hosted LoRA URL), the
 * upscaler (Real-ESRGAN on Replicate, or the named non-AI resize offline), and the prompt.
 */
import { UsageError } from "../errors.js";
import type { Env } from "../settings/settings.js";
import { recordedLoraUrl, trainedVersionOf, normaliseLoraUrl, loraNotHostedError, type IdentityLike } from "../generation/lora-source.js";
import { PRICE_TABLE } from "../pricing/prices.js";
import type { FacePassBackend } from "./backends/types.js";
import type { ImageToImageGenerator } from "./backends/local.js";
import type { PolishSettings } from "./plan.js";
import type { Upscaler } from "./upscale.js";
import type { LocalRunEvent, LocalRunOptions } from "../generation/local/backend-setup.js";
import type { Generator } from "../generation/generator.js";

export type PolishBackendName = "replicate" | "local" | "test";

export interface PolishSetupInput {
  backend: PolishBackendName;
  identity: IdentityLike;
  env: Env;
  replicateBaseUrl?: string | undefined;
  loraUrl?: string | undefined;
  upscale: number;
  /** "auto": Real-ESRGAN with the replicate backend, the offline resize otherwise. */
  upscaler: "auto" | "resize" | "replicate";
  /** The face pass's strength and steps (the local ETA counts the steps that run). */
  settings: Pick<PolishSettings, "strength" | "steps">;
  testDelayMs?: number | undefined;
  /** --backend local: where ai-toolkit's Python is (as for gen). */
  local?: LocalRunOptions | undefined;
  /**
   * --backend local after gen: gen's local backend, still open with the model loaded, reused for the
   * face pass instead of loading the model a second time. Polish closes it when done.
   */
  localGenerator?: Generator | undefined;
  signal: AbortSignal;
  onLocalEvent?: ((event: LocalRunEvent) => void) | undefined;
}

export async function createFacePass(input: PolishSetupInput): Promise<FacePassBackend> {
  if (input.backend === "test") {
    const { TestFacePass } = await import("./backends/test.js");
    return new TestFacePass(input.testDelayMs ? { delayMs: input.testDelayMs } : {});
  }
  if (input.backend === "local") {
    const { buildLocalBackend } = await import("../generation/local/backend-setup.js");
    const { LocalFacePass } = await import("./backends/local.js");
    if (!String(input.identity.recipe ?? "").startsWith("flux1")) {
      throw new UsageError(`Identity "${input.identity.name}" was trained with ${String(input.identity.recipe ?? "an unknown recipe")}; the local face pass needs a FLUX.1 identity`, {
        code: "E_POLISH_BACKEND",
        hint: "diffusers has no FLUX.2 inpainting pipeline in ai-toolkit's environment; use --backend replicate, or --backend test to rehearse",
      });
    }
    const shared = input.localGenerator;
    if (shared?.imageToImage && shared.imageToImageInputs) return new LocalFacePass(shared as ImageToImageGenerator, input.settings);
    const backend = await buildLocalBackend({ identity: input.identity, local: input.local, env: input.env, signal: input.signal, emit: input.onLocalEvent ?? (() => undefined) });
    return new LocalFacePass(backend, input.settings);
  }
  const { createReplicateSession } = await import("../replicate/client.js");
  const { ReplicateFacePass } = await import("./backends/replicate.js");
  const session = createReplicateSession({ env: input.env, ...(input.replicateBaseUrl ? { baseUrl: input.replicateBaseUrl } : {}) });
  const version = trainedVersionOf(input.identity);
  const entry = PRICE_TABLE.entries["replicate:trained-version"];
  const common = { session, priceUsd: entry.perImageUsd, secondsPerFace: entry.secondsPerImage };
  if (version) return new ReplicateFacePass({ ...common, target: { version } });
  const lora = input.loraUrl ? normaliseLoraUrl(input.loraUrl) : recordedLoraUrl(input.identity);
  if (!lora) throw loraNotHostedError(input.identity);
  return new ReplicateFacePass({ ...common, target: { model: "black-forest-labs/flux-dev-lora", loraWeights: lora } });
}

export async function createUpscaler(input: PolishSetupInput): Promise<Upscaler | undefined> {
  if (input.upscale <= 0) return undefined;
  const { ResizeUpscaler, ReplicateUpscaler } = await import("./upscale.js");
  const kind = input.upscaler === "auto" ? (input.backend === "replicate" ? "replicate" : "resize") : input.upscaler;
  if (kind === "resize") return new ResizeUpscaler();
  const { createReplicateSession } = await import("../replicate/client.js");
  return new ReplicateUpscaler(createReplicateSession({ env: input.env, ...(input.replicateBaseUrl ? { baseUrl: input.replicateBaseUrl } : {}) }));
}
