/**
 * A PNG output relabelled without decoding it: its image chunks copied as they are, every
 * metadata chunk dropped, our XMP packet added (png-xmp.ts). It gives the same pixels as sharp's
 * decode and re-encode (no EXIF, GPS, text or time chunk survives either way) for about 1 ms
 * instead of about 60 ms of CPU per megapixel, which `gen` with scoring spends on the same
 * cores as the face models (test/bench/RESULTS.md).
 * Chunk layout, CRC and which chunks are critical: PNG specification, https://www.w3.org/TR/png-3/#5Chunk-layout.
 */
import { crc32 } from "node:zlib";
import { PNG_SIGNATURE, xmpITxtChunk } from "./png-xmp.js";

/** Chunks that carry the image: kept byte for byte. Everything else ancillary is metadata, dropped. */
const IMAGE_CHUNKS = new Set(["IHDR", "PLTE", "tRNS", "IDAT", "IEND"]);
/**
 * Chunks that make the copy differ from what sharp would write: a colour profile (sharp converts
 * to sRGB), animation (APNG frames). With one of these the caller re-encodes.
 */
const NEEDS_DECODE = new Set(["iCCP", "acTL", "fcTL", "fdAT"]);

export interface RelabelledPng {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * The relabelled PNG, or undefined when the file must go through a full decode: not a PNG, a
 * chunk whose CRC does not match (damaged), no IEND or bytes after it (cut short or padded), an
 * unknown critical chunk, a colour profile or animation.
 */
export function relabelPng(png: Buffer, xmp: string): RelabelledPng | undefined {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) return undefined;
  const kept: Buffer[] = [];
  let at = 8;
  let ended = false;
  while (at + 12 <= png.length && !ended) {
    const length = png.readUInt32BE(at);
    if (at + 12 + length > png.length) return undefined;
    const type = png.toString("latin1", at + 4, at + 8);
    const stored = png.readUInt32BE(at + 8 + length);
    if ((crc32(png.subarray(at + 4, at + 8 + length)) >>> 0) !== stored) return undefined;
    if (NEEDS_DECODE.has(type)) return undefined;
    const critical = (type.charCodeAt(0) & 0x20) === 0;
    if (critical && !IMAGE_CHUNKS.has(type)) return undefined;
    if (kept.length === 0 && type !== "IHDR") return undefined;
    if (IMAGE_CHUNKS.has(type)) kept.push(png.subarray(at, at + 12 + length));
    if (type === "IHDR") kept.push(xmpITxtChunk(xmp));
    ended = type === "IEND";
    at += 12 + length;
  }
  if (!ended || at !== png.length) return undefined;
  const ihdr = kept[0]!;
  return { data: Buffer.concat([PNG_SIGNATURE, ...kept]), width: ihdr.readUInt32BE(8), height: ihdr.readUInt32BE(12) };
}
