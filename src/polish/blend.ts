/**
 * Putting a polished face back (pure, on raw RGB bytes): the model's patch is first matched in
 * colour to the original where they meet (mean and standard deviation per channel over the
 * feathered ring, Reinhard-style colour transfer: https://doi.org/10.1109/38.946629), then
 * alpha-blended through the feathered mask. Pixels whose alpha is 0 are copied byte for byte, so
 * everything outside the ellipse and its feather is exactly the original.
 */
import type { RgbImage } from "../selfies/faces.js";
import { ringIndices, type Region } from "./geometry.js";

export interface ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
}

/** Mean and standard deviation per channel over the given pixel indices of an RGB buffer. */
export function channelStats(data: Uint8Array, indices: readonly number[]): ChannelStats {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  for (const k of indices) {
    for (let c = 0; c < 3; c++) {
      const v = data[k * 3 + c] ?? 0;
      sum[c]! += v;
      sq[c]! += v * v;
    }
  }
  const n = Math.max(1, indices.length);
  const mean = sum.map((s) => s / n) as [number, number, number];
  const std = sq.map((s, c) => Math.sqrt(Math.max(0, s / n - mean[c]! ** 2))) as [number, number, number];
  return { mean, std };
}

/** Copies the region out of an image (RGB, side x side). */
export function cropRegion(image: RgbImage, region: Region): Uint8Array {
  const out = new Uint8Array(region.side * region.side * 3);
  for (let j = 0; j < region.side; j++) {
    const from = ((region.top + j) * image.width + region.left) * 3;
    out.set(image.data.subarray(from, from + region.side * 3), j * region.side * 3);
  }
  return out;
}

/**
 * The std ratio is clamped tight: the ring mixes hair, skin, backdrop and clothes, so its spread
 * says more about texture than about colour, and a model answer smoother than the original (a
 * smaller spread) would get its contrast stretched. Seen on the astronaut portrait: gains of 1.33,
 * then 1.2, on red and blue turned brown hair olive; at 1.1 the hair keeps its colour. The mean
 * shift does most of the matching.
 */
const MAX_GAIN = 1.1;
const MIN_GAIN = 0.9;

/**
 * Shifts the patch's colours so that, over the ring, its mean and spread per channel equal the
 * original's. Returns a new buffer; the gains and offsets used are returned for the record.
 */
export function matchColours(patch: Uint8Array, original: Uint8Array, alpha: Float32Array): { data: Uint8Array; gain: number[]; offset: number[] } {
  const ring = ringIndices(alpha);
  if (ring.length < 16) return { data: patch.slice(), gain: [1, 1, 1], offset: [0, 0, 0] };
  const p = channelStats(patch, ring);
  const o = channelStats(original, ring);
  const gain = [0, 1, 2].map((c) => Math.min(MAX_GAIN, Math.max(MIN_GAIN, p.std[c]! > 1 ? o.std[c]! / p.std[c]! : 1)));
  const offset = [0, 1, 2].map((c) => o.mean[c]! - p.mean[c]! * gain[c]!);
  const data = new Uint8Array(patch.length);
  for (let k = 0; k < patch.length; k++) {
    const c = k % 3;
    data[k] = Math.min(255, Math.max(0, Math.round((patch[k] ?? 0) * gain[c]! + offset[c]!)));
  }
  return { data, gain, offset };
}

/**
 * The original with the patch blended into `region` through `alpha` (side x side). A new image;
 * the input is not changed. Pixels with alpha 0 keep their exact bytes.
 */
export function blendPatch(image: RgbImage, region: Region, patch: Uint8Array, alpha: Float32Array): RgbImage {
  const data = image.data.slice();
  const side = region.side;
  for (let j = 0; j < side; j++) {
    for (let i = 0; i < side; i++) {
      const a = alpha[j * side + i] ?? 0;
      if (a <= 0) continue;
      const o = ((region.top + j) * image.width + region.left + i) * 3;
      const q = (j * side + i) * 3;
      for (let c = 0; c < 3; c++) {
        const before = image.data[o + c] ?? 0;
        data[o + c] = Math.round(before * (1 - a) + (patch[q + c] ?? 0) * a);
      }
    }
  }
  return { data, width: image.width, height: image.height };
}

/** The bounding box of alpha > 0 in image pixels: outside it nothing may change (tests check it). */
export function changedBounds(region: Region, alpha: Float32Array): { left: number; top: number; right: number; bottom: number } | undefined {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  const side = region.side;
  for (let k = 0; k < alpha.length; k++) {
    if ((alpha[k] ?? 0) <= 0) continue;
    const i = k % side;
    const j = Math.floor(k / side);
    minX = Math.min(minX, i);
    maxX = Math.max(maxX, i);
    minY = Math.min(minY, j);
    maxY = Math.max(maxY, j);
  }
  if (minX === Infinity) return undefined;
  return { left: region.left + minX, top: region.top + minY, right: region.left + maxX + 1, bottom: region.top + maxY + 1 };
}
