/**
 * Face pass on Replicate: gen's Replicate backend given image-to-image jobs (generator.ts
 * ImageToImageJob); the model-specific input names live with it
 * (src/generation/backends/replicate-image-to-image.ts). Two targets, following what the identity has:
 * - a trained destination version (`owner/name:<hex>`, from `train --backend replicate`): inpainting
 *   with `image`, `mask` and `prompt_strength`, the LoRA built in (the image is resized to a multiple
 *   of 16 by github.com/replicate/flux-fine-tuner predict.py, so the working side is 1024);
 * - `black-forest-labs/flux-dev-lora` with `lora_weights` (a locally trained identity hosted at a
 *   URL): img2img, no mask input; our feathered blend does the masking.
 * Creates, waits, downloads and recovery are gen's (never pays twice: the id is persisted before
 * waiting; a create lost to a kill is found again by its exact inputs). The uploaded region and mask
 * URLs are recorded before the create, so a re-run sends identical inputs.
 */
import { InterruptedError } from "../../errors.js";
import type { RemoteRef } from "../../generation/generator.js";
import { ReplicateGenerator } from "../../generation/backends/replicate.js";
import type { ReplicateSession } from "../../replicate/client.js";
import { uploadFile } from "../../replicate/files.js";
import { validateInput } from "../../replicate/models.js";
import type { PredictionTarget } from "../../replicate/predictions.js";
import { faceJob, type FacePassBackend, type FacePassCallbacks, type FacePassRequest, type FacePassResult } from "./types.js";

export interface ReplicateFacePassOptions {
  session: ReplicateSession;
  /** A trained version, or flux-dev-lora with the LoRA's URL. */
  target: { version: string } | { model: "black-forest-labs/flux-dev-lora"; loraWeights: string };
  priceUsd: number;
  secondsPerFace: number;
  pollIntervalMs?: number;
}

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
    return this.generator.imageToImageInputs(this.jobFor(request, files));
  }

  private jobFor(request: FacePassRequest, files: { image: string; mask: string }) {
    return faceJob(request, files, "version" in this.options.target ? undefined : this.options.target.loraWeights);
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
    const job = this.jobFor(request, uploads ?? { image: "", mask: "" });
    const inputs = this.generator.imageToImageInputs(job);
    if (!this.validated && !request.resume) {
      // Checked against the model's own schema before the first paid create.
      await validateInput(this.options.session, this.target, inputs, signal);
      this.validated = true;
    }
    const result = await this.generator.imageToImage(job, {
      signal,
      onCreating: () => callbacks.onCreating?.(inputs) ?? Promise.resolve(),
      onCreated: (remote) => callbacks.onCreated?.(remote) ?? Promise.resolve(),
    });
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
