/**
 * Where the face pass works (pure): a square region around each detected face, with a margin so
 * the model sees hair, ears and some background (ADetailer and ComfyUI's FaceDetailer crop the
 * same way: github.com/Bing-su/adetailer `adetailer/mask.py`, github.com/ltdrdata/ComfyUI-Impact-Pack
 * `modules/impact/core.py` crop_factor), and the blend mask inside it: an ellipse over the face that
 * fades to exactly 0 well before the region's edge, so every pixel outside the ellipse + feather
 * stays as it was.
 */

export type Box = [number, number, number, number];

export interface Region {
  left: number;
  top: number;
  /** The region is square: side x side pixels of the original image. */
  side: number;
}

/** The face box grown by this factor (each side) is the square's side: 2.2 = face plus 60% around. */
export const DEFAULT_CROP_FACTOR = 2.2;
/** FLUX works at about 1 MP; regions are scaled up (or down) to this square, a multiple of 16. */
export const WORKING_SIDE = 1024;
/** Faces smaller than this (pixels, box side) are left alone: nothing to polish. */
export const MIN_FACE_SIDE = 24;

/**
 * The square region around `box` in a width x height image: centred on the face, shifted to stay
 * inside the image, shrunk only when the image itself is smaller than the square.
 */
export function faceRegion(box: Box, width: number, height: number, cropFactor = DEFAULT_CROP_FACTOR): Region {
  const [x, y, w, h] = box;
  const side = Math.max(1, Math.min(width, height, Math.round(Math.max(w, h) * cropFactor)));
  const cx = x + w / 2;
  const cy = y + h / 2;
  const left = Math.min(Math.max(0, Math.round(cx - side / 2)), width - side);
  const top = Math.min(Math.max(0, Math.round(cy - side / 2)), height - side);
  return { left, top, side };
}

/** Scales a detector box from a downscaled copy of the image back to full-size pixels. */
export function scaleBox(box: Box, factor: number): Box {
  return [box[0] * factor, box[1] * factor, box[2] * factor, box[3] * factor].map((v) => Math.round(v)) as Box;
}

function smoothstep(t: number): number {
  const c = Math.min(1, Math.max(0, t));
  return c * c * (3 - 2 * c);
}

export interface MaskShape {
  /** Centre and radii of the fully replaced ellipse, in region pixels. */
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** Width of the fade, as a fraction of the radii (0.35 = fades out over 35% more). */
  feather: number;
}

/**
 * The ellipse to replace: the face box widened to take in the hairline and jaw (boxes from
 * BlazeFace stop at the brows and chin), with a feather that still ends inside the region.
 */
export function maskShape(box: Box, region: Region, feather = 0.35): MaskShape {
  const [x, y, w, h] = box;
  const cx = x + w / 2 - region.left;
  const cy = y + h / 2 - region.top - h * 0.05;
  // Outer edge (radius * (1 + feather)) must stay inside the square: cap the radii.
  const maxOuter = region.side / 2 - 1;
  const rx = Math.min((w / 2) * 1.15, maxOuter / (1 + feather));
  const ry = Math.min((h / 2) * 1.3, maxOuter / (1 + feather));
  return { cx, cy, rx: Math.max(1, rx), ry: Math.max(1, ry), feather };
}

/**
 * Alpha (0..1) per pixel of a size x size grid laid over the region: 1 inside the ellipse, a
 * smooth fade across the feather, exactly 0 beyond. `size` may differ from region.side (the mask
 * sent to an inpainting model at working resolution): coordinates are scaled.
 */
export function maskAlpha(shape: MaskShape, regionSide: number, size = regionSide): Float32Array {
  const alpha = new Float32Array(size * size);
  const s = regionSide / size;
  for (let j = 0; j < size; j++) {
    const dy = ((j + 0.5) * s - shape.cy) / shape.ry;
    for (let i = 0; i < size; i++) {
      const dx = ((i + 0.5) * s - shape.cx) / shape.rx;
      const d = Math.sqrt(dx * dx + dy * dy);
      alpha[j * size + i] = d <= 1 ? 1 : 1 - smoothstep((d - 1) / shape.feather);
    }
  }
  return alpha;
}

/** The feathered ring (0 < alpha < 1): where colours are matched between patch and original. */
export function ringIndices(alpha: Float32Array, low = 0.02, high = 0.98): number[] {
  const out: number[] = [];
  for (let k = 0; k < alpha.length; k++) {
    const a = alpha[k] ?? 0;
    if (a > low && a < high) out.push(k);
  }
  return out;
}
