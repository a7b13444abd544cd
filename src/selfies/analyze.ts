/**
 * Measures one image: decode once with shrink-on-load to a <=1024 px copy, detect faces on it,
 * then take the quality measures from that copy. Everything here is I/O + models; the verdicts
 * are pure functions in rules.ts.
 */
import type { Sharp } from "sharp";
import { detectFaces, type FaceResult, type RgbImage } from "./faces.js";
import { decoding, openImage, type OpenedImage } from "./decode.js";
import { dhash, lumaStats, normalisedSharpness } from "./quality.js";

/** Long side of the copy faces are detected on, at most (Human scales to 256 for BlazeFace anyway). */
export const DETECT_SIZE = 1024;

/**
 * The detection copy's long side: at most DETECT_SIZE, and an exact power-of-two fraction of the
 * source when that is at least 768 px, so JPEG shrink-on-load does all the work (a 4032 px photo
 * decodes at 1/4 to 1008 px; asking for 1024 would make libjpeg decode at 1/2 and resample).
 */
export function detectSize(longSide: number): number {
  const k = 2 ** Math.max(0, Math.floor(Math.log2(longSide / 768)));
  return Math.min(DETECT_SIZE, Math.round(longSide / k));
}
/** Side of the square the face is resampled to before measuring blur (fixed scale, see rules.ts). */
export const BLUR_SIZE = 256;

export interface AnalysedFace {
  box: [number, number, number, number];
  score: number;
  yaw: number;
  pitch: number;
  roll: number;
}

/** What is cached per image content hash (check-cache.ts). */
export interface ImageAnalysis {
  format: string;
  width: number;
  height: number;
  /** All faces, largest first, boxes in oriented source pixels. */
  faces: AnalysedFace[];
  /** Embedding of faces[0], unit-normalised. */
  embedding?: number[];
  sharpness?: number;
  faceLuma?: { mean: number; dark: number; bright: number };
  frameLuma: { mean: number; dark: number; bright: number };
  dhash: string;
}

function clampBox(box: [number, number, number, number], width: number, height: number): { left: number; top: number; width: number; height: number } {
  const left = Math.max(0, Math.min(width - 1, Math.round(box[0])));
  const top = Math.max(0, Math.min(height - 1, Math.round(box[1])));
  const right = Math.max(left + 1, Math.min(width, Math.round(box[0] + box[2])));
  const bottom = Math.max(top + 1, Math.min(height, Math.round(box[1] + box[3])));
  return { left, top, width: right - left, height: bottom - top };
}

async function grayOf(pipeline: Sharp): Promise<Uint8Array> {
  const buf = await pipeline.greyscale().raw().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

export async function analyseImage(bytes: Uint8Array): Promise<ImageAnalysis> {
  const opened: OpenedImage = await openImage(bytes);
  const { default: sharp } = await import("sharp");
  const { data, info } = await decoding(
    opened
      .pipeline()
      .resize({ width: detectSize(Math.max(opened.width, opened.height)), height: detectSize(Math.max(opened.width, opened.height)), fit: "inside", withoutEnlargement: true })
      .toColourspace("srgb")
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  const copy: RgbImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  const raw = { raw: { width: copy.width, height: copy.height, channels: 3 as const } };
  const scale = opened.width / copy.width;

  const [found, hashPixels, framePixels] = await Promise.all([
    detectFaces(copy),
    grayOf(sharp(data, raw).resize(9, 8, { fit: "fill" })),
    grayOf(sharp(data, raw).resize(128, 128, { fit: "inside" })),
  ]);
  const faces = [...found].sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
  const analysis: ImageAnalysis = {
    format: opened.format,
    width: opened.width,
    height: opened.height,
    faces: faces.map((f) => toSource(f, scale)),
    frameLuma: lumaStats(framePixels),
    dhash: dhash(hashPixels),
  };
  const main = faces[0];
  if (main) {
    if (main.embedding.length) analysis.embedding = main.embedding;
    const inCopy = clampBox(main.box, copy.width, copy.height);
    // A face under ~200 px in the copy would be upscaled to 256 and read as blurry; when the
    // source has more pixels, measure it there instead (one extra decode, only for these images).
    const pipeline =
      inCopy.width < 200 && scale > 1.2
        ? opened.pipeline().extract(clampBox(analysis.faces[0]!.box, opened.width, opened.height)).toColourspace("srgb")
        : sharp(data, raw).extract(inCopy);
    const gray = await decoding(grayOf(pipeline.resize(BLUR_SIZE, BLUR_SIZE, { fit: "fill" })));
    analysis.sharpness = Math.round(normalisedSharpness(gray, BLUR_SIZE, BLUR_SIZE) * 10) / 10;
    analysis.faceLuma = lumaStats(gray);
  }
  return analysis;
}

function toSource(face: FaceResult, scale: number): AnalysedFace {
  const round1 = (v: number): number => Math.round(v * 10) / 10;
  return {
    box: face.box.map((v) => Math.round(v * scale)) as [number, number, number, number],
    score: Math.round(face.score * 1000) / 1000,
    yaw: round1(face.yaw),
    pitch: round1(face.pitch),
    roll: round1(face.roll),
  };
}
