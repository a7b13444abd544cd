/**
 * `--backend test` for polish: a free rehearsal of the whole flow (crop, blend, scores, manifest,
 * upscale, metadata). The repaint is gen's test backend's image-to-image job: a visible change
 * labelled "POLISH TEST" (src/generation/backends/test-image-to-image.ts); outputs carry
 * `placeholder: true` and the algorithmicMedia XMP label like gen's test images.
 *
 * HEADSHOT_TEST_DELAY_MS adds a fixed delay per face (tests use it to stop a run midway).
 */
import { TestGenerator } from "../../generation/backends/test.js";
import { InterruptedError } from "../../errors.js";
import { faceJob, type FacePassBackend, type FacePassCallbacks, type FacePassRequest, type FacePassResult } from "./types.js";

export class TestFacePass implements FacePassBackend {
  readonly id = "test";
  readonly modelRef = "test";
  readonly placeholder = true;
  readonly priceUsd = 0;
  readonly secondsPerFace = 0.05;
  private readonly generator: TestGenerator;

  constructor(options: { delayMs?: number } = {}) {
    this.generator = new TestGenerator(options.delayMs ? { delayMs: options.delayMs } : {});
  }

  describe(request: FacePassRequest): Record<string, unknown> {
    return this.generator.imageToImageInputs(faceJob(request, { image: request.imagePath, mask: request.maskPath }));
  }

  async run(request: FacePassRequest, callbacks: FacePassCallbacks): Promise<FacePassResult> {
    if (callbacks.signal.aborted) throw new InterruptedError();
    const job = faceJob(request, { image: request.imagePath, mask: request.maskPath });
    const inputs = this.generator.imageToImageInputs(job);
    await callbacks.onCreating?.(inputs);
    const result = await this.generator.imageToImage(job, { signal: callbacks.signal });
    return { path: result.rawPath, remote: result.remote, inputs, costUsd: 0, costSource: "free", placeholder: true };
  }

  async close(): Promise<void> {
    await this.generator.close();
  }
}
