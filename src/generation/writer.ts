/**
 * Final files: the raw backend output re-encoded with sharp into the requested format (a PNG into
 * PNG is copied chunk by chunk instead: png-passthrough.ts), carrying only the XMP packet from xmp.ts (in PNG: an uncompressed iTXt chunk, see png-xmp.ts) (sharp drops all other metadata unless asked to keep it, so no
 * EXIF, GPS or camera fields survive), written atomically; then the sidecar JSON next to it.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic-write.js";
import { relabelPng } from "./png-passthrough.js";
import { withPngXmp } from "./png-xmp.js";
import { buildXmp, DIGITAL_SOURCE_TYPE, type XmpFields } from "./xmp.js";

export type OutputFormat = "png" | "jpg" | "webp";

export interface FinalImageRequest {
  rawPath: string;
  targetPath: string;
  format: OutputFormat;
  /** 1-100 for jpg/webp (the preset's outputQuality). */
  quality: number;
  xmp: XmpFields;
}

export interface FinalImage {
  sha256: string;
  bytes: number;
  width: number;
  height: number;
}

export async function writeFinalImage(request: FinalImageRequest): Promise<FinalImage> {
  if (request.format === "png") {
    // A PNG output needs no re-encode to lose its metadata: its image chunks are copied.
    const relabelled = relabelPng(await readFile(request.rawPath), buildXmp(request.xmp));
    if (relabelled) return writeFinal(request.targetPath, relabelled.data, relabelled);
  }
  const { default: sharp } = await import("sharp");
  // No operation cache: every image is read once, and the cache only grows memory in long batches.
  sharp.cache(false);
  const quality = Math.min(100, Math.max(1, Math.round(request.quality)));
  let pipeline = sharp(request.rawPath, { failOn: "error" });
  pipeline =
    request.format === "png"
      ? pipeline.png({ compressionLevel: 6 })
      : request.format === "jpg"
        ? pipeline.jpeg({ quality, mozjpeg: false })
        : pipeline.webp({ quality });
  const xmp = buildXmp(request.xmp);
  // PNG: libvips would put XMP in a compressed zTXt chunk that many readers skip (png-xmp.ts).
  const encoded = await (request.format === "png" ? pipeline : pipeline.withXmp(xmp)).toBuffer({ resolveWithObject: true });
  const { info } = encoded;
  const data = request.format === "png" ? withPngXmp(encoded.data, xmp) : encoded.data;
  return writeFinal(request.targetPath, data, info);
}

async function writeFinal(path: string, data: Buffer, size: { width: number; height: number }): Promise<FinalImage> {
  await writeFileAtomic(path, data);
  return { sha256: createHash("sha256").update(data).digest("hex"), bytes: data.byteLength, width: size.width, height: size.height };
}

/** The sidecar path for an image: same stem, `.json`. */
export function sidecarPathFor(imagePath: string): string {
  return imagePath.replace(/\.[^./\\]+$/, "") + ".json";
}

export interface SidecarInput {
  file: string;
  sha256: string;
  width: number;
  height: number;
  placeholder: boolean;
  [key: string]: unknown;
}

export interface Sidecar extends SidecarInput {
  digitalSourceType: string;
}

export async function writeSidecar(path: string, data: SidecarInput): Promise<void> {
  const sidecar: Sidecar = {
    ...data,
    digitalSourceType: data.placeholder ? DIGITAL_SOURCE_TYPE.algorithmicMedia : DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia,
  };
  await writeJsonAtomic(path, sidecar);
}
