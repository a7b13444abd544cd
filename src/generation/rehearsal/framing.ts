/**
 * The free rehearsal (`--backend test` with a known person, issue 15), pure part: which preview
 * each planned image becomes, where the person's selfie crop goes on the canvas, and the backdrop
 * colour the preset asks for. The I/O part (sharp) is compose.ts; where the crops come from is
 * source.ts.
 *
 * A seeded share of previews plants what real runs produce (a stranger's face, a soft image, a
 * small face), so scoring, --keep-best, --until, crops and the gallery show honest verdicts.
 */
import { createHash } from "node:crypto";
import type { PlannedImage } from "../plan.js";

/** What a preview shows: the person's own selfie, or one of the planted failures. */
export type Plant = "selfie" | "stranger" | "soft" | "small";

/**
 * One cycle of previews: half are the person's selfie, one in six each plants identity drift, a
 * soft image and a small face. The cycle's starting point follows the batch's seed base, so a
 * batch is reproducible from its seed and different seeds plant in different places.
 */
export const PLANT_CYCLE: readonly Plant[] = ["selfie", "stranger", "selfie", "soft", "selfie", "small"];

/** Words printed on each kind of preview (also written to the XMP and manifest). */
export const PLANT_LABELS: Record<Plant, { title: string; note: string }> = {
  selfie: { title: "PREVIEW: your selfie, not generated", note: "a rehearsal: a real run generates a new photo here" },
  stranger: { title: "PREVIEW: a stranger, not you", note: "planted: another person's face (identity drift)" },
  soft: { title: "PREVIEW: your selfie, not generated", note: "planted: a soft, out-of-focus image" },
  small: { title: "PREVIEW: your selfie, not generated", note: "planted: a face too small in the frame" },
};

function hashInt(text: string): number {
  return createHash("sha256").update(text).digest().readUInt32BE(0);
}

/** The seed base of the batch an image belongs to (seedFor in plan.ts: base + index - 1). */
function batchSeed(image: Pick<PlannedImage, "seed" | "index">): number {
  return image.seed - (image.index - 1);
}

export function plantFor(image: Pick<PlannedImage, "seed" | "index">): Plant {
  const offset = hashInt(`plant:${batchSeed(image)}`) % PLANT_CYCLE.length;
  return PLANT_CYCLE[(image.index - 1 + offset) % PLANT_CYCLE.length] ?? "selfie";
}

/** Which of the person's crops an image uses: each in turn, from a seeded start. */
export function selfieIndexFor(image: Pick<PlannedImage, "seed" | "index">, crops: number): number {
  if (crops <= 0) return 0;
  return (hashInt(`crop:${batchSeed(image)}`) + image.index - 1) % crops;
}

/**
 * Face width as a share of the canvas width for each camera distance of the composer
 * (src/presets/compose.ts writes it to promptJson.camera.distance); "small" is below the quality
 * floor for kept images (src/scoring/calibration.ts KEPT_QUALITY).
 */
export const FACE_SHARE: Record<string, number> = {
  "close-up": 0.3,
  "head-and-shoulders": 0.27,
  "chest-up": 0.21,
  "waist-up": 0.16,
  "three-quarter": 0.12,
};
export const SMALL_FACE_SHARE = 0.07;
/** Where the face centre sits, as a share of the canvas height (eyes a little above a third). */
export const FACE_CENTRE_Y = 0.42;
/**
 * Headroom: the top of the head (hair: 0.7 face heights above the detected box, as the gallery's
 * thumbnails assume, src/curation/thumb-frame.ts) stays below the label band (12% of the height,
 * compose.ts) with a little air. Close-ups on square frames move down to keep it.
 */
export const HEADROOM_TOP = 0.14;

export interface Placement {
  /** The crop is resized to width x height and its top-left corner put at (left, top); may overflow. */
  width: number;
  height: number;
  left: number;
  top: number;
  /** The face box in canvas pixels, [x, y, w, h]. */
  face: [number, number, number, number];
}

/** Where a crop (its size and face box in its own pixels) goes on a width x height canvas. */
export function placeCrop(
  crop: { width: number; height: number; faceBox: readonly [number, number, number, number] },
  width: number,
  height: number,
  faceShare: number,
): Placement {
  const [fx, fy, fw, fh] = crop.faceBox;
  const scale = (faceShare * width) / Math.max(1, fw);
  const left = Math.round(width / 2 - (fx + fw / 2) * scale);
  const centreY = Math.max(height * FACE_CENTRE_Y, height * HEADROOM_TOP + fh * scale * 1.2);
  const top = Math.round(centreY - (fy + fh / 2) * scale);
  return {
    width: Math.max(1, Math.round(crop.width * scale)),
    height: Math.max(1, Math.round(crop.height * scale)),
    left,
    top,
    face: [Math.round(left + fx * scale), Math.round(top + fy * scale), Math.round(fw * scale), Math.round(fh * scale)],
  };
}

/** The preset's camera distance, from the structured prompt the composer wrote. */
export function shotOf(image: Pick<PlannedImage, "promptJson">): string {
  const camera = image.promptJson.camera as Record<string, unknown> | undefined;
  const distance = typeof camera?.distance === "string" ? camera.distance : "";
  return distance in FACE_SHARE ? distance : "head-and-shoulders";
}

/** Black-and-white presets (bw-editorial): the preview is greyscale too. */
export function isMonochrome(image: Pick<PlannedImage, "prompt" | "promptJson">): boolean {
  const avoid = Array.isArray(image.promptJson.avoid) ? image.promptJson.avoid.map(String) : [];
  return /black[- ]and[- ]white|monochrome/i.test(image.prompt) || avoid.some((a) => /^colou?r$/i.test(a.trim()));
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** Colour words of backdrops, first match wins (so "dark grey" is dark before it is grey). */
const BACKDROP_WORDS: ReadonlyArray<[RegExp, Rgb]> = [
  [/\bblack\b/, { r: 24, g: 24, b: 27 }],
  [/\b(white|high-key)\b/, { r: 236, g: 236, b: 232 }],
  [/\bnavy\b/, { r: 32, g: 44, b: 74 }],
  [/\b(dark|charcoal)\b/, { r: 52, g: 54, b: 60 }],
  [/\blight (grey|gray)\b/, { r: 196, g: 197, b: 199 }],
  [/\b(mid-grey|mid-gray|grey|gray)\b/, { r: 128, g: 130, b: 134 }],
  [/\b(teal|turquoise)\b/, { r: 38, g: 112, b: 116 }],
  [/\b(blue|sky)\b/, { r: 78, g: 110, b: 156 }],
  [/\b(green|park|garden|foliage|trees)\b/, { r: 78, g: 112, b: 78 }],
  [/\b(orange|coral|colourful|colorful|yellow)\b/, { r: 222, g: 128, b: 72 }],
  [/\b(beige|cream|warm|home|interior)\b/, { r: 214, g: 198, b: 172 }],
  [/\b(wood|bookshel\w*|library|brick)\b/, { r: 112, g: 82, b: 62 }],
  [/\b(office|loft|clinic|street|city)\b/, { r: 160, g: 164, b: 168 }],
];

/** The backdrop colour the preset's background text asks for, varied a little per image. */
export function backdropFor(image: Pick<PlannedImage, "seed" | "promptJson">): Rgb {
  const text = String(image.promptJson.background ?? "").toLowerCase();
  const base = BACKDROP_WORDS.find(([re]) => re.test(text))?.[1] ?? { r: 120, g: 130, b: 140 };
  const h = createHash("sha256").update(`backdrop:${image.seed}`).digest();
  const jitter = (i: number) => ((h[i] ?? 0) % 17) - 8;
  const clamp = (v: number) => Math.max(0, Math.min(255, v));
  return { r: clamp(base.r + jitter(0)), g: clamp(base.g + jitter(1)), b: clamp(base.b + jitter(2)) };
}
