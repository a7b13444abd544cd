/**
 * The I/O half of the face pass: decoding with sharp, finding faces with the shipped face models
 * (src/selfies/faces.ts), writing the region and mask the model gets, reading its answer back at
 * the region's size, and applying the pure blend (blend.ts) for every face of an image.
 */
import { writeFileAtomic } from "../util/atomic-write.js";
import { detectFaces, type RgbImage } from "../selfies/faces.js";
import { blendPatch, cropRegion, matchColours } from "./blend.js";
import { faceRegion, maskAlpha, maskShape, MIN_FACE_SIDE, scaleBox, WORKING_SIDE, type Box, type Region } from "./geometry.js";

/** Full-size RGB with EXIF orientation applied (what the user sees). */
export async function decodeRgb(path: string): Promise<RgbImage> {
  const { default: sharp } = await import("sharp");
  const { data, info } = await sharp(path, { failOn: "error", limitInputPixels: 120_000_000 }).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** The detector runs on a copy of at most 1024 px (as `check` and `score` do); boxes come back full size. */
export async function findFaces(image: RgbImage, maxFaces: number, cropFactor: number): Promise<Array<{ box: Box; region: Region }>> {
  const { default: sharp } = await import("sharp");
  const scale = Math.min(1, 1024 / Math.max(image.width, image.height));
  let small = image;
  if (scale < 1) {
    const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
      .resize({ width: Math.round(image.width * scale), height: Math.round(image.height * scale), fit: "fill" })
      .raw()
      .toBuffer({ resolveWithObject: true });
    small = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  }
  const faces = await detectFaces(small);
  return faces
    .map((f) => scaleBox(f.box, image.width / small.width))
    .filter((box) => Math.min(box[2], box[3]) >= MIN_FACE_SIDE)
    .sort((a, b) => b[2] * b[3] - a[2] * a[3])
    .slice(0, maxFaces)
    .map((box) => ({ box, region: faceRegion(box, image.width, image.height, cropFactor) }));
}

/** Writes the region scaled to the working size, and its mask (white = repaint), as PNGs. */
export async function writeWorkingFiles(image: RgbImage, box: Box, region: Region, paths: { image: string; mask: string }): Promise<void> {
  const { default: sharp } = await import("sharp");
  const crop = cropRegion(image, region);
  const png = await sharp(crop, { raw: { width: region.side, height: region.side, channels: 3 } })
    .resize(WORKING_SIDE, WORKING_SIDE, { kernel: "lanczos3" })
    .png({ compressionLevel: 6 })
    .toBuffer();
  await writeFileAtomic(paths.image, png);
  // The mask the model sees is the blend's ellipse, a little larger, so the repaint covers the seam.
  const shape = maskShape(box, region);
  const alpha = maskAlpha({ ...shape, rx: shape.rx * 1.1, ry: shape.ry * 1.1 }, region.side, WORKING_SIDE);
  const mask = Buffer.alloc(alpha.length);
  for (let k = 0; k < alpha.length; k++) mask[k] = (alpha[k] ?? 0) > 0.01 ? 255 : 0;
  await writeFileAtomic(paths.mask, await sharp(mask, { raw: { width: WORKING_SIDE, height: WORKING_SIDE, channels: 1 } }).png().toBuffer());
}

/** Reads a model's answer (any size) back as RGB at the region's size. */
export async function readPatch(path: string, side: number): Promise<Uint8Array> {
  const { default: sharp } = await import("sharp");
  const { data } = await sharp(path).removeAlpha().resize(side, side, { fit: "fill", kernel: "lanczos3" }).raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Blends every face's patch in turn; returns the new image and the colour transfer used per face. */
export async function blendFaces(image: RgbImage, faces: ReadonlyArray<{ box: Box; region: Region; patchPath: string }>): Promise<{ image: RgbImage; colour: Array<{ gain: number[]; offset: number[] }> }> {
  let current = image;
  const colour: Array<{ gain: number[]; offset: number[] }> = [];
  for (const face of faces) {
    const patch = await readPatch(face.patchPath, face.region.side);
    const alpha = maskAlpha(maskShape(face.box, face.region), face.region.side);
    const matched = matchColours(patch, cropRegion(current, face.region), alpha);
    colour.push({ gain: matched.gain.map((g) => Math.round(g * 1000) / 1000), offset: matched.offset.map((o) => Math.round(o * 10) / 10) });
    current = blendPatch(current, face.region, matched.data, alpha);
  }
  return { image: current, colour };
}

/** Encodes raw RGB as PNG bytes (lossless: the untouched pixels stay exactly the original's). */
export async function encodePng(image: RgbImage): Promise<Buffer> {
  const { default: sharp } = await import("sharp");
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
}
