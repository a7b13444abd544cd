/**
 * Writes the face-aware crops of one kept image (`gen --crops`): one decode, then one JPEG per
 * spec, each carrying the same AI-generated XMP label as the image it came from (IPTC
 * DigitalSourceType via src/generation/xmp.ts). JPEG because every
 * upload form takes it and LinkedIn caps photos at 8 MB.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { buildXmp, type XmpFields } from "../generation/xmp.js";
import { CROP_SPECS, cropRegion, faceInCircle, type Box, type CropRegion, type CropSpec } from "./crop-geometry.js";

export const CROPS_DIR = "crops";
const JPEG_QUALITY = 92;

export interface CropResult {
  name: string;
  use: string;
  /** Absolute path of the written crop. */
  path: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  region: CropRegion;
  /** The region was smaller than the named size, so it was enlarged (Lanczos). */
  upscaled: boolean;
  /** Part of the crop lay outside the image; its edge pixels were repeated. */
  padded: boolean;
  /** Square crops for round masks: whether the face box stays inside the circle-safe area. */
  circleSafe?: boolean;
}

export interface MakeCropsOptions {
  /** Folder the crops go to (gen uses `<out>/crops`). */
  outDir: string;
  /** File stem: crops are `<stem>-<spec name>.jpg`. */
  stem: string;
  /** The source image's label fields (its sidecar has them all). */
  xmp: XmpFields;
  specs?: readonly CropSpec[];
}

/**
 * `face` is the face box in the image's oriented pixels (the score's `face.box`).
 */
export async function makeCrops(image: string | Uint8Array, face: Box, options: MakeCropsOptions): Promise<CropResult[]> {
  const { default: sharp } = await import("sharp");
  const { data, info } = await sharp(image, { failOn: "truncated" }).rotate().toColourspace("srgb").removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: 3 as const } };
  const xmp = buildXmp(options.xmp);
  const results: CropResult[] = [];
  for (const spec of options.specs ?? CROP_SPECS) {
    const region = cropRegion(face, info.width, info.height, spec);
    const { pad } = region;
    const padded = pad.left + pad.top + pad.right + pad.bottom > 0;
    let source = sharp(data, raw);
    if (padded) {
      const extended = await source.extend({ ...pad, extendWith: "copy" }).raw().toBuffer({ resolveWithObject: true });
      source = sharp(extended.data, { raw: { width: extended.info.width, height: extended.info.height, channels: 3 } });
    }
    const encoded = await source
      .extract({ left: region.left + pad.left, top: region.top + pad.top, width: region.width, height: region.height })
      .resize(spec.width, spec.height, { fit: "fill", kernel: "lanczos3" })
      .jpeg({ quality: JPEG_QUALITY, chromaSubsampling: "4:4:4" })
      .withXmp(xmp)
      .toBuffer();
    const path = join(options.outDir, `${options.stem}-${spec.name}.jpg`);
    await writeFileAtomic(path, encoded);
    const result: CropResult = {
      name: spec.name,
      use: spec.use,
      path,
      width: spec.width,
      height: spec.height,
      bytes: encoded.byteLength,
      sha256: createHash("sha256").update(encoded).digest("hex"),
      region,
      upscaled: region.scale > 1,
      padded,
    };
    if (spec.circle) result.circleSafe = faceInCircle(face, region);
    results.push(result);
  }
  return results;
}
