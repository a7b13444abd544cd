/**
 * Face-aware crop regions (pure). Generate at the model's native ~1 MP, then derive crops framed on
 * the detected face, not the image centre. LinkedIn shows the
 * 1:1 profile photo (400x400) inside a circle, so the square crops keep the whole face box inside
 * a circle with a margin ("circle-safe").
 */

export type Box = [number, number, number, number];

export interface CropSpec {
  /** Named by use: the file gets `-<name>` appended. */
  name: string;
  width: number;
  height: number;
  /** Crop width in face-box widths (how much of the person around the face). */
  span: number;
  /** Where the face box's centre sits, as a fraction of the crop height from the top. */
  faceY: number;
  /** Square crops shown through a round mask: the face must stay inside the circle-safe area. */
  circle?: boolean;
  use: string;
}

/**
 * The crops `--crops` writes. Spans measured against Human's face box (brows to chin, about the
 * face's width): 2.6 widths is head and shoulders, the framing the reference recommends for a
 * profile photo; banners show more of the scene.
 */
export const CROP_SPECS: readonly CropSpec[] = [
  { name: "linkedin-400", width: 400, height: 400, span: 2.6, faceY: 0.46, circle: true, use: "LinkedIn profile photo (shown as a circle)" },
  { name: "avatar-800", width: 800, height: 800, span: 2.6, faceY: 0.46, circle: true, use: "avatars: Slack, Teams, GitHub, Gravatar (often round)" },
  { name: "portrait-4x5", width: 1080, height: 1350, span: 2.8, faceY: 0.36, use: "portrait 4:5 (Instagram, websites, print 8x10)" },
  { name: "portrait-3x4", width: 960, height: 1280, span: 2.8, faceY: 0.36, use: "portrait 3:4 (team pages, ID-style)" },
  { name: "banner-16x9", width: 1920, height: 1080, span: 4.5, faceY: 0.42, use: "16:9 banner (website hero, slides, video thumbnail)" },
];

/** The circle-safe area: the face box's corners stay within this share of the circle's radius. */
export const CIRCLE_SAFE = 0.9;

export interface CropRegion {
  /** In source pixels; may reach outside the image when `pad` is non-zero. */
  left: number;
  top: number;
  width: number;
  height: number;
  /** Pixels of edge extension needed on each side (face too close to the image border). */
  pad: { left: number; top: number; right: number; bottom: number };
  /** Output size / region size: above 1 means the crop is enlarged. */
  scale: number;
}

/** Is the face box inside the circle inscribed in the region, with CIRCLE_SAFE margin? */
export function faceInCircle(face: Box, region: { left: number; top: number; width: number; height: number }, safe = CIRCLE_SAFE): boolean {
  const cx = region.left + region.width / 2;
  const cy = region.top + region.height / 2;
  const r = (Math.min(region.width, region.height) / 2) * safe;
  const [x, y, w, h] = face;
  return [
    [x, y],
    [x + w, y],
    [x, y + h],
    [x + w, y + h],
  ].every(([px, py]) => Math.hypot(px! - cx, py! - cy) <= r);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

/**
 * The region of the source to crop for `spec`. Its size comes from the face (span), shrunk to fit
 * the image when it can be without losing the framing; it is shifted (never shrunk further) to stay
 * inside the image. When shifting would push a circle crop's face out of the safe circle, or the
 * face sits at the very edge, the region keeps its ideal place and the missing border is padded.
 */
export function cropRegion(face: Box, imageWidth: number, imageHeight: number, spec: CropSpec): CropRegion {
  const [fx, fy, fw, fh] = face;
  const aspect = spec.width / spec.height;
  const faceSize = Math.max(fw, fh, 1);
  let width = faceSize * spec.span;
  let height = width / aspect;
  // Shrink to fit the image, but never below 70% of the intended framing (the face would crowd it).
  const fit = Math.min(1, imageWidth / width, imageHeight / height);
  const k = Math.max(fit, 0.7);
  width = Math.round(width * k);
  height = Math.round(width / aspect);
  const cx = fx + fw / 2;
  const cy = fy + fh / 2;
  const ideal = { left: Math.round(cx - width / 2), top: Math.round(cy - spec.faceY * height) };
  const shifted = {
    left: Math.round(clamp(ideal.left, 0, Math.max(0, imageWidth - width))),
    top: Math.round(clamp(ideal.top, 0, Math.max(0, imageHeight - height))),
  };
  const fitsInside = width <= imageWidth && height <= imageHeight;
  const shiftedOk = fitsInside && (!spec.circle || faceInCircle(face, { ...shifted, width, height }));
  const place = shiftedOk ? shifted : ideal;
  const pad = {
    left: Math.max(0, -place.left),
    top: Math.max(0, -place.top),
    right: Math.max(0, place.left + width - imageWidth),
    bottom: Math.max(0, place.top + height - imageHeight),
  };
  return { left: place.left, top: place.top, width, height, pad, scale: Math.round((spec.width / width) * 1000) / 1000 };
}
