/**
 * The test backend's image-to-image job (`--backend test` for polish): a free rehearsal with a
 * visible, labelled change instead of a model. The picture is warmed, slightly smoothed and given a
 * banner reading "POLISH TEST", so no one mistakes it for a real face pass; the result carries
 * `placeholder: true` like every test-backend image (./test.ts).
 */
import type { GenResult, ImageToImageJob } from "../generator.js";
import { testRawResult } from "./test-raw.js";

export const IMAGE_TO_IMAGE_TEST_LABEL = "POLISH TEST";

/**
 * The label sits inside the fully replaced part of polish's mask (over the mouth and chin), never in
 * the feathered ring: the ring is where colours are matched, and a magenta banner there tinted the
 * whole blended face green on the astronaut portrait.
 */
function banner(width: number, height: number): string {
  const side = Math.min(width, height);
  const h = Math.round(side * 0.07);
  const size = Math.round(h * 0.6);
  const y = Math.round(height * 0.58);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
    `<rect x="${Math.round(width * 0.33)}" y="${y}" width="${Math.round(width * 0.34)}" height="${h}" fill="#c2185b" fill-opacity="0.85"/>`,
    `<text x="${width / 2}" y="${Math.round(y + h * 0.72)}" font-family="sans-serif" font-size="${size}" font-weight="bold" fill="#ffffff" text-anchor="middle">${IMAGE_TO_IMAGE_TEST_LABEL}</text>`,
    `</svg>`,
  ].join("");
}

/** The rehearsal's repaint of `job.image`, written to `<rawDir>/<rawName>.png`. */
export async function rehearseImageToImage(job: ImageToImageJob, signal: AbortSignal): Promise<GenResult> {
  const { default: sharp } = await import("sharp");
  // Warmer, a touch smoother: a change anyone can see in the before/after pair.
  const bytes = await sharp(job.image)
    .removeAlpha()
    .recomb([
      [1.08, 0.04, 0],
      [0, 1.02, 0],
      [0, 0.02, 0.9],
    ])
    .median(3)
    .composite([{ input: Buffer.from(banner(job.width, job.height)) }])
    .png({ compressionLevel: 3 })
    .toBuffer();
  return testRawResult(job, bytes, `test-${job.key}`, signal);
}
