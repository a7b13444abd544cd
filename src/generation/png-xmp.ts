/**
 * XMP in PNG, where every reader looks for it: one uncompressed `iTXt` chunk with the keyword
 * `XML:com.adobe.xmp` (Adobe XMP Specification Part 3, "Storage in files", section 1.1.5 PNG:
 * https://github.com/adobe/XMP-Toolkit-SDK/blob/main/docs/XMPSpecificationPart3.pdf). libvips
 * (sharp's `withXmp`) stores it in a compressed `zTXt` chunk, which ExifTool reads but exifr and
 * other spec-following readers do not; so PNGs are encoded without XMP and the chunk is added here.
 * Chunk layout and CRC: PNG specification, https://www.w3.org/TR/png-3/#11iTXt.
 */
import { crc32 } from "node:zlib";

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
export const XMP_KEYWORD = "XML:com.adobe.xmp";

interface Chunk {
  type: string;
  data: Buffer;
}

function readChunks(png: Buffer): Chunk[] {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error("not a PNG file");
  const chunks: Chunk[] = [];
  let at = 8;
  while (at + 12 <= png.length) {
    const length = png.readUInt32BE(at);
    const type = png.toString("latin1", at + 4, at + 8);
    chunks.push({ type, data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
    if (type === "IEND") break;
  }
  return chunks;
}

/** One PNG chunk: length, type, data, CRC over type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** The keyword of a tEXt/zTXt/iTXt chunk (Latin-1, up to the first NUL). */
function keywordOf(chunk: Chunk): string | undefined {
  if (chunk.type !== "iTXt" && chunk.type !== "zTXt" && chunk.type !== "tEXt") return undefined;
  const end = chunk.data.indexOf(0);
  return end < 0 ? undefined : chunk.data.toString("latin1", 0, end);
}

/** An iTXt chunk: keyword, NUL, compression flag 0, method 0, empty language, NUL, empty translated keyword, NUL, UTF-8 text. */
export function xmpITxtChunk(xmp: string): Buffer {
  const data = Buffer.concat([Buffer.from(XMP_KEYWORD, "latin1"), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(xmp, "utf8")]);
  return pngChunk("iTXt", data);
}

/**
 * The PNG with its XMP packet in one uncompressed iTXt chunk right after IHDR (readers that stop
 * at the image data still see it); any earlier XMP chunk is replaced.
 */
export function withPngXmp(png: Buffer, xmp: string): Buffer {
  const chunks = readChunks(png).filter((c) => keywordOf(c) !== XMP_KEYWORD);
  const parts: Buffer[] = [PNG_SIGNATURE];
  for (const chunk of chunks) {
    parts.push(pngChunk(chunk.type, chunk.data));
    if (chunk.type === "IHDR") parts.push(xmpITxtChunk(xmp));
  }
  return Buffer.concat(parts);
}

/** The XMP text of a PNG's `XML:com.adobe.xmp` iTXt chunk (uncompressed), if any. */
export function readPngXmp(png: Buffer): { chunk: string; xmp: string } | undefined {
  for (const chunk of readChunks(png)) {
    if (keywordOf(chunk) !== XMP_KEYWORD) continue;
    if (chunk.type !== "iTXt") return { chunk: chunk.type, xmp: "" };
    // keyword NUL flag method lang NUL translated NUL text
    let at = XMP_KEYWORD.length + 1;
    const compressed = chunk.data[at] === 1;
    at += 2;
    at = chunk.data.indexOf(0, at) + 1;
    at = chunk.data.indexOf(0, at) + 1;
    return { chunk: compressed ? "iTXt (compressed)" : "iTXt", xmp: compressed ? "" : chunk.data.toString("utf8", at) };
  }
  return undefined;
}
