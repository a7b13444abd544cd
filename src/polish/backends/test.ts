/**
 * `--backend test` for polish: a free rehearsal of the whole flow (crop, blend, scores, manifest,
 * upscale, metadata) with a visible, labelled change instead of a model. The region is warmed,
 * slightly smoothed and given a banner reading "POLISH TEST", so no one mistakes it for a real
 * face pass; outputs carry `placeholder: true` and the algorithmicMedia XMP label like gen's
 * test backend (src/generation/backends/test.ts).
 *
 * HEADSHOT_TEST_DELAY_MS adds a fixed delay per face (tests use it to stop a run midway).
 */
import { join } from "node:path";
import { InterruptedError } from "../../errors.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { sleep } from "../../util/sleep.js";
import type { FacePassBackend, FacePassCallbacks, FacePassRequest, FacePassResult } from "./types.js";

export const POLISH_TEST_LABEL = "POLISH TEST";

/**
 * The label sits inside the fully replaced part of the mask (over the mouth and chin), never in the
 * feathered ring: the ring is where colours are matched, and a magenta banner there tinted the
 * whole blended face green on the astronaut portrait.
 */
function banner(side: number): string {
  const h = Math.round(side * 0.07);
  const size = Math.round(h * 0.6);
  const y = Math.round(side * 0.58);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}">`,
    `<rect x="${Math.round(side * 0.33)}" y="${y}" width="${Math.round(side * 0.34)}" height="${h}" fill="#c2185b" fill-opacity="0.85"/>`,
    `<text x="${side / 2}" y="${Math.round(y + h * 0.72)}" font-family="sans-serif" font-size="${size}" font-weight="bold" fill="#ffffff" text-anchor="middle">${POLISH_TEST_LABEL}</text>`,
    `</svg>`,
  ].join("");
}

export class TestFacePass implements FacePassBackend {
  readonly id = "test";
  readonly modelRef = "test";
  readonly placeholder = true;
  readonly priceUsd = 0;
  readonly secondsPerFace = 0.05;

  constructor(private readonly options: { delayMs?: number } = {}) {}

  describe(request: FacePassRequest): Record<string, unknown> {
    return { image: request.imagePath, mask: request.maskPath, prompt: request.prompt, seed: request.seed, prompt_strength: request.strength };
  }

  async run(request: FacePassRequest, callbacks: FacePassCallbacks): Promise<FacePassResult> {
    if (callbacks.signal.aborted) throw new InterruptedError();
    const inputs = this.describe(request);
    await callbacks.onCreating?.(inputs);
    if (this.options.delayMs) await sleep(this.options.delayMs, callbacks.signal);
    const { default: sharp } = await import("sharp");
    const side = request.side;
    // Warmer, a touch smoother: a change anyone can see in the before/after pair.
    const bytes = await sharp(request.imagePath)
      .removeAlpha()
      .recomb([
        [1.08, 0.04, 0],
        [0, 1.02, 0],
        [0, 0.02, 0.9],
      ])
      .median(3)
      .composite([{ input: Buffer.from(banner(side)) }])
      .png({ compressionLevel: 3 })
      .toBuffer();
    if (callbacks.signal.aborted) throw new InterruptedError();
    const path = join(request.rawDir, `${request.rawName}.png`);
    await writeFileAtomic(path, bytes);
    return { path, remote: { id: `test-${request.key}`, modelRef: "test" }, inputs, costUsd: 0, costSource: "free", placeholder: true };
  }

  async close(): Promise<void> {
    // nothing to release
  }
}
