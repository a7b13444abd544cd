/**
 * Face pass on your own GPU: gen's local backend (one Python process, the model and the identity's
 * LoRA loaded once for the whole run; after `gen --polish --backend local`, the very process gen
 * used) given image-to-image jobs (generator.ts ImageToImageJob).
 * headshot_generate.py builds diffusers' FluxInpaintPipeline from the loaded pipeline's components
 * (`from_pipe`, no second load) and runs it with the region, the mask (white = repaint) and the
 * strength (FLUX.1 identities only).
 */
import type { Generator } from "../../generation/generator.js";
import { faceJob, type FacePassBackend, type FacePassCallbacks, type FacePassRequest, type FacePassResult } from "./types.js";

/** A generation backend that takes image-to-image jobs (the local one: local-backend.ts). */
export type ImageToImageGenerator = Generator & Required<Pick<Generator, "imageToImage" | "imageToImageInputs">>;

/** About 0.6 s per step on a 24 GB GPU at 1 MP (pricing/prices.ts); only steps x strength run. */
const SECONDS_PER_STEP = 0.6;

export class LocalFacePass implements FacePassBackend {
  readonly id = "local";
  readonly modelRef = "local";
  readonly placeholder = false;
  readonly priceUsd = 0;
  readonly secondsPerFace: number;

  constructor(
    private readonly backend: ImageToImageGenerator,
    sampler: { steps: number; strength: number },
  ) {
    this.secondsPerFace = Math.round(SECONDS_PER_STEP * Math.max(1, Math.floor(sampler.steps * sampler.strength)) * 10) / 10;
  }

  describe(request: FacePassRequest): Record<string, unknown> {
    return this.backend.imageToImageInputs(faceJob(request, { image: request.imagePath, mask: request.maskPath }));
  }

  async run(request: FacePassRequest, callbacks: FacePassCallbacks): Promise<FacePassResult> {
    const job = faceJob(request, { image: request.imagePath, mask: request.maskPath });
    const inputs = this.backend.imageToImageInputs(job);
    await callbacks.onCreating?.(inputs);
    const result = await this.backend.imageToImage(job, { signal: callbacks.signal });
    return { path: result.rawPath, remote: result.remote, inputs, costUsd: 0, costSource: "free", placeholder: false };
  }

  async close(): Promise<void> {
    await this.backend.close();
  }
}
