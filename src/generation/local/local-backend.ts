/**
 * `--backend local` as a Generator (src/generation/generator.ts), so the batch engine keeps its
 * manifest, resume, progress and exit codes exactly as with Replicate. The Python process starts in
 * prepare() (or on the first job) and loads the model once for the whole batch; images land as raw
 * PNGs in the engine's raw folder and the engine's writer adds the metadata, as for Replicate.
 *
 * Failure kinds: a failed image (OOM at this size, an invalid job) is `failed` and the batch goes on;
 * a dead Python process is `fatal` (nothing else can run). Load failures (missing torch, gated
 * model, bad LoRA) are thrown from prepare() as they are, with their own exit codes.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InterruptedError, UsageError, isHeadshotError } from "../../errors.js";
import { GenerationFailure, type GenCallbacks, type GenJob, type GenResult, type Generator, type ImageToImageJob } from "../generator.js";
import type { PlannedImage } from "../plan.js";
import { openLocalGenerator, type LocalGenerator, type LocalGeneratorOptions, type LocalJob } from "./local-generator.js";
import { isLocalModelId, LOCAL_MODELS } from "./models.js";
import { preflightPython } from "./preflight.js";

export interface LocalBackendOptions extends Omit<LocalGeneratorOptions, "model" | "lora" | "signal"> {
  /** From the identity: the training recipe id (flux1-dev, flux2-klein-4b, ...) and its LoRA file. */
  identity: { name: string; recipe: string; baseModel?: string | undefined; lora: { path: string } };
  /**
   * Where `python` came from (AI_TOOLKIT_PYTHON, the checkout's venv, PATH). When set, a quick probe
   * (preflight.ts) checks that interpreter for torch/diffusers before the model loads.
   */
  pythonFrom?: string;
}

/** Codes after which the Python process is gone: stop the batch rather than fail every image. */
const FATAL_CODES = new Set(["E_LOCAL_GEN_CRASHED", "E_LOCAL_GEN_STOPPED", "E_LOCAL_GEN_CLOSED", "E_LOCAL_GEN_TIMEOUT"]);

export class LocalBackend implements Generator {
  readonly id = "local";
  readonly placeholder = false;
  private opening: Promise<LocalGenerator> | undefined;

  constructor(private readonly options: LocalBackendOptions) {
    const { recipe, name } = options.identity;
    if (!isLocalModelId(recipe)) {
      throw new UsageError(`Identity "${name}" was trained with ${recipe}, which local generation does not support`, {
        code: "E_LOCAL_MODEL",
        hint: `local generation runs ${Object.keys(LOCAL_MODELS).join(", ")}; use --backend replicate for this identity`,
      });
    }
  }

  async prepare(context: { signal: AbortSignal; images: ReadonlyArray<PlannedImage> }): Promise<void> {
    await this.open(context.signal);
  }

  async generate(job: GenJob, callbacks: GenCallbacks): Promise<GenResult> {
    const inputs = job.inputs;
    const sampler = job.image.sampler;
    return this.run(
      {
        id: `${job.image.key}#${job.attempt}`,
        prompt: String(inputs.prompt ?? job.image.prompt),
        width: numberOr(inputs.width, sampler.width),
        height: numberOr(inputs.height, sampler.height),
        steps: numberOr(inputs.steps, sampler.steps),
        guidance: numberOr(inputs.guidance, sampler.guidance),
        seed: numberOr(inputs.seed, job.image.seed),
        loraScale: numberOr(inputs.lora_scale, sampler.loraScale),
        out: join(job.rawDir, `${job.rawName}.png`),
      },
      callbacks,
    );
  }

  /** The job line's fields (protocol.ts JobMessage) an image-to-image job sends. */
  imageToImageInputs(job: ImageToImageJob): Record<string, unknown> {
    return {
      prompt: job.prompt,
      image: job.image,
      ...(job.mask !== undefined ? { mask: job.mask } : {}),
      strength: job.strength,
      seed: job.seed,
      width: job.width,
      height: job.height,
      steps: job.steps,
      guidance: job.guidance,
      lora_scale: job.lora?.scale ?? 1,
    };
  }

  /**
   * The face pass in the same Python process as gen (headshot_generate.py builds the inpaint or
   * img2img pipeline from the loaded one's components: no second model load).
   */
  imageToImage(job: ImageToImageJob, callbacks: GenCallbacks): Promise<GenResult> {
    return this.run(
      {
        id: job.key,
        prompt: job.prompt,
        width: job.width,
        height: job.height,
        steps: job.steps,
        guidance: job.guidance,
        seed: job.seed,
        loraScale: job.lora?.scale ?? 1,
        out: join(job.rawDir, `${job.rawName}.png`),
        image: job.image,
        ...(job.mask !== undefined ? { mask: job.mask } : {}),
        strength: job.strength,
      },
      callbacks,
    );
  }

  private async run(localJob: LocalJob, callbacks: GenCallbacks): Promise<GenResult> {
    const { signal } = callbacks;
    if (signal.aborted) throw new InterruptedError();
    const generator = await this.open(signal);
    const id = localJob.id;
    callbacks.onStage?.("processing", { id, modelRef: "local" });
    try {
      const image = await generator.generate(localJob, { signal });
      const bytes = await readFile(image.path);
      return {
        rawPath: image.path,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        contentType: "image/png",
        remote: { id, modelRef: "local" },
        costUsd: 0,
        costSource: "free",
        completedAt: new Date().toISOString(),
      };
    } catch (error) {
      if (error instanceof InterruptedError || signal.aborted) throw error instanceof InterruptedError ? error : new InterruptedError();
      if (isHeadshotError(error)) {
        const kind = FATAL_CODES.has(error.code) ? "fatal" : "failed";
        throw new GenerationFailure(kind, error.message, { code: error.code, cause: error, ...(error.hint ? { hint: error.hint } : {}) });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    const opening = this.opening;
    this.opening = undefined;
    if (!opening) return;
    const generator = await opening.catch(() => undefined);
    await generator?.close();
  }

  private open(signal: AbortSignal): Promise<LocalGenerator> {
    this.opening ??= (async () => {
      const { pythonFrom, identity, ...options } = this.options;
      if (pythonFrom !== undefined) {
        await preflightPython(
          { python: options.python, from: pythonFrom },
          { env: options.env ?? {}, ...(options.extendEnv !== undefined ? { extendEnv: options.extendEnv } : {}), signal },
        );
        if (signal.aborted) throw new InterruptedError();
      }
      return openLocalGenerator({
        ...options,
        model: identity.recipe as LocalGeneratorOptions["model"],
        lora: identity.lora.path,
        base: options.base ?? identity.baseModel,
        signal,
      });
    })();
    return this.opening;
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}
