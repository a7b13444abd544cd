/**
 * Face pass on your own GPU: gen's local backend (one Python process, the model and the identity's
 * LoRA loaded once for the whole run) given inpainting jobs. headshot_generate.py builds diffusers'
 * FluxInpaintPipeline from the loaded pipeline's components (`from_pipe`, no second load) and runs
 * it with the region, the mask (white = repaint) and the strength (FLUX.1 identities only).
 */
import type { PlannedImage } from "../../generation/plan.js";
import type { LocalBackend } from "../../generation/local/local-backend.js";
import type { FacePassBackend, FacePassCallbacks, FacePassRequest, FacePassResult } from "./types.js";

export interface LocalFacePassOptions {
  backend: LocalBackend;
  steps: number;
  guidance: number;
  loraScale: number;
}

export class LocalFacePass implements FacePassBackend {
  readonly id = "local";
  readonly modelRef = "local";
  readonly placeholder = false;
  readonly priceUsd = 0;
  /** About 0.6 s per step on a 24 GB GPU at 1 MP (generation/prices.ts), strength x steps run. */
  readonly secondsPerFace: number;

  constructor(private readonly options: LocalFacePassOptions) {
    this.secondsPerFace = Math.round(0.6 * options.steps * 0.35 * 10) / 10;
  }

  describe(request: FacePassRequest): Record<string, unknown> {
    return {
      prompt: request.prompt,
      image: request.imagePath,
      mask: request.maskPath,
      strength: request.strength,
      seed: request.seed,
      width: request.side,
      height: request.side,
      steps: this.options.steps,
      guidance: this.options.guidance,
      lora_scale: this.options.loraScale,
    };
  }

  async run(request: FacePassRequest, callbacks: FacePassCallbacks): Promise<FacePassResult> {
    const inputs = this.describe(request);
    await callbacks.onCreating?.(inputs);
    // gen's backend reads the sampler, key, prompt and seed of a planned image; a face has these.
    const image = {
      key: request.key,
      prompt: request.prompt,
      seed: request.seed,
      sampler: { width: request.side, height: request.side, steps: this.options.steps, guidance: this.options.guidance, loraScale: this.options.loraScale },
    } as unknown as PlannedImage;
    const result = await this.options.backend.generate({ image, attempt: 1, inputs, rawDir: request.rawDir, rawName: request.rawName }, { signal: callbacks.signal });
    return { path: result.rawPath, remote: result.remote, inputs, costUsd: 0, costSource: "free", placeholder: false };
  }

  async close(): Promise<void> {
    await this.options.backend.close();
  }
}
