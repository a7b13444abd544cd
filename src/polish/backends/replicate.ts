/**
 * Face pass on Replicate. Two targets, following what each model's real schema accepts:
 * - a trained destination version (`owner/name:<hex>`, from `train --backend replicate`): inpainting
 *   with `image`, `mask` (white = repaint) and `prompt_strength`, the LoRA built in
 *   (github.com/replicate/flux-fine-tuner `predict.py`: inpaint mode when both image and mask are
 *   given; the image is resized to a multiple of 16, so the working side is 1024);
 * - `black-forest-labs/flux-dev-lora` with `lora_weights` (locally trained identity hosted at a
 *   URL): img2img with `image` + `prompt_strength` (no mask input); our feathered blend does the
 *   masking.
 * Creates, waits, downloads and recovery reuse gen's Replicate backend (never pays twice: the id is
 * persisted before waiting; a create lost to a kill is found again by its exact inputs). The
 * uploaded region and mask URLs are recorded before the create, so a re-run sends identical inputs.
 */
import { InterruptedError } from "../../errors.js";
import type { RemoteRef } from "../../generation/generator.js";
import type { PlannedImage } from "../../generation/plan.js";
import { ReplicateGenerator } from "../../generation/backends/replicate.js";
import type { ReplicateSession } from "../../replicate/client.js";
import { uploadFile } from "../../replicate/files.js";
import { validateInput } from "../../replicate/models.js";
import type { PredictionTarget } from "../../replicate/predictions.js";
import type { FacePassBackend, FacePassCallbacks, FacePassRequest, FacePassResult } from "./types.js";

export interface ReplicateFacePassOptions {
  session: ReplicateSession;
  /** A trained version, or flux-dev-lora with the LoRA's URL. */
  target: { version: string } | { model: "black-forest-labs/flux-dev-lora"; loraWeights: string };
  priceUsd: number;
  secondsPerFace: number;
  steps?: number;
  guidance?: number;
  loraScale?: number;
  pollIntervalMs?: number;
}

/**
 * gen's backend only reads a job's inputs, raw path and resume id; the planned image it also
 * carries is for gen's own bookkeeping. A face has none, so it gets this marked stand-in.
 */
const NOT_A_GEN_IMAGE = { key: "polish-face" } as unknown as PlannedImage;

export class ReplicateFacePass implements FacePassBackend {
  readonly id = "replicate";
  readonly placeholder = false;
  private readonly generator: ReplicateGenerator;
  private readonly target: PredictionTarget;
  private validated = false;

  constructor(private readonly options: ReplicateFacePassOptions) {
    this.target = "version" in options.target ? { version: options.target.version } : { model: options.target.model };
    this.generator = new ReplicateGenerator({
      session: options.session,
      target: this.target,
      model: "version" in options.target ? "trained-version" : "flux-dev-lora",
      priceUsd: options.priceUsd,
      syncWaitSeconds: 10,
      ...(options.pollIntervalMs ? { pollIntervalMs: options.pollIntervalMs } : {}),
    });
  }

  get modelRef(): string {
    return this.generator.modelRef;
  }

  get priceUsd(): number {
    return this.options.priceUsd;
  }

  get secondsPerFace(): number {
    return this.options.secondsPerFace;
  }

  /** The exact inputs for a face, given where its files are (URLs, or local paths for display). */
  inputsFor(request: FacePassRequest, files: { image: string; mask: string }): Record<string, unknown> {
    const common = {
      prompt: request.prompt,
      image: files.image,
      prompt_strength: request.strength,
      seed: request.seed,
      num_inference_steps: this.options.steps ?? 28,
      output_format: "png",
      ...(this.options.loraScale !== undefined ? { lora_scale: this.options.loraScale } : {}),
    };
    if ("version" in this.options.target) {
      return { ...common, mask: files.mask, ...(this.options.guidance !== undefined ? { guidance_scale: this.options.guidance } : {}) };
    }
    return { ...common, lora_weights: this.options.target.loraWeights, ...(this.options.guidance !== undefined ? { guidance: this.options.guidance } : {}) };
  }

  describe(request: FacePassRequest): Record<string, unknown> {
    return this.inputsFor(request, { image: request.imagePath, mask: request.maskPath });
  }

  async run(request: FacePassRequest, callbacks: FacePassCallbacks): Promise<FacePassResult> {
    const { signal } = callbacks;
    let uploads = request.uploads;
    if (!uploads && !request.resume) {
      const up = async (path: string, filename: string): Promise<string> =>
        (await uploadFile(this.options.session, { path, filename, contentType: "image/png", signal })).urls.get;
      uploads = { image: await up(request.imagePath, `${request.rawName}-face.png`), mask: await up(request.maskPath, `${request.rawName}-mask.png`) };
      await callbacks.onUploaded?.(uploads);
    }
    if (signal.aborted) throw new InterruptedError();
    const inputs = this.inputsFor(request, uploads ?? { image: "", mask: "" });
    if (!this.validated && !request.resume) {
      // Checked against the model's own schema before the first paid create.
      await validateInput(this.options.session, this.target, inputs, signal);
      this.validated = true;
    }
    const result = await this.generator.generate(
      { image: NOT_A_GEN_IMAGE, attempt: 1, inputs, rawDir: request.rawDir, rawName: request.rawName, resume: request.resume },
      {
        signal,
        onCreating: () => callbacks.onCreating?.(inputs) ?? Promise.resolve(),
        onCreated: (remote) => callbacks.onCreated?.(remote) ?? Promise.resolve(),
      },
    );
    return { path: result.rawPath, remote: result.remote, inputs, costUsd: result.costUsd, costSource: "price-table", placeholder: false };
  }

  async recover(request: { since: string; candidates: ReadonlyArray<{ key: string; inputs: Record<string, unknown>; knownIds: string[] }>; signal: AbortSignal }): Promise<Map<string, RemoteRef>> {
    return this.generator.recover({
      since: request.since,
      signal: request.signal,
      candidates: request.candidates.map((c) => ({ key: c.key, inputs: [c.inputs], knownIds: c.knownIds })),
    });
  }

  onInterrupt(remoteId: string): Promise<"cancelled" | "left-running"> {
    return this.generator.onInterrupt({ id: remoteId, modelRef: this.modelRef }, "queued");
  }

  async close(): Promise<void> {
    await this.generator.close();
  }
}
