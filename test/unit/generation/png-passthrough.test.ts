/**
 * relabelPng: a PNG output loses every metadata chunk and gains our XMP without a decode, with the
 * same pixels; anything it cannot copy safely is left to the full re-encode.
 */
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { relabelPng } from "../../../src/generation/png-passthrough.js";
import { pngChunk, readPngXmp } from "../../../src/generation/png-xmp.js";

const chunk = pngChunk;

function chunkTypes(png: Buffer): string[] {
  const types: string[] = [];
  for (let at = 8; at + 12 <= png.length; at += 12 + png.readUInt32BE(at)) types.push(png.toString("latin1", at + 4, at + 8));
  return types;
}

/** A sharp-made PNG with extra chunks spliced in after IHDR (IHDR is 8 + 25 bytes in). */
async function pngWith(...extra: Buffer[]): Promise<Buffer> {
  const base = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 200, g: 100, b: 50 } } })
    .composite([{ input: { create: { width: 10, height: 10, channels: 3, background: { r: 0, g: 0, b: 255 } } }, left: 5, top: 5 }])
    .png()
    .toBuffer();
  return Buffer.concat([base.subarray(0, 33), ...extra, base.subarray(33)]);
}

const GPS_EXIF = chunk("eXIf", Buffer.concat([Buffer.from("MM\0*\0\0\0\x08", "latin1"), Buffer.from("GPSLatitude 48.85 N", "latin1")]));
const TEXT = chunk("tEXt", Buffer.from("Comment\0shot at 12 Main Street", "latin1"));
const TIME = chunk("tIME", Buffer.from([0x07, 0xea, 12, 7, 10, 0, 0]));
const OLD_XMP = chunk("iTXt", Buffer.from("XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta>camera</x:xmpmeta>", "latin1"));

describe("relabelPng", () => {
  it("keeps the image chunks, drops every metadata chunk and adds our XMP right after IHDR", async () => {
    const png = await pngWith(GPS_EXIF, TEXT, TIME, OLD_XMP);
    const out = relabelPng(png, "<x:xmpmeta>ours</x:xmpmeta>")!;
    expect(out).toMatchObject({ width: 40, height: 30 });
    expect(chunkTypes(out.data)).toEqual(["IHDR", "iTXt", ...chunkTypes(png).filter((t) => t === "IDAT"), "IEND"]);
    expect(readPngXmp(out.data)?.xmp).toBe("<x:xmpmeta>ours</x:xmpmeta>");
    for (const gone of ["GPSLatitude", "Main Street", "camera"]) expect(out.data.includes(Buffer.from(gone, "latin1"))).toBe(false);
    const [before, after] = await Promise.all([sharp(png).raw().toBuffer(), sharp(out.data).raw().toBuffer()]);
    expect(after.equals(before)).toBe(true);
    const meta = await sharp(out.data).metadata();
    expect(meta.exif).toBeUndefined();
  });

  it("leaves to the re-encode a colour profile, a damaged chunk, a cut or padded file, an unknown critical chunk and a non-PNG", async () => {
    const png = await pngWith();
    expect(relabelPng(png, "x")).toBeDefined();
    expect(relabelPng(await pngWith(chunk("iCCP", Buffer.from("icc\0\0xyz", "latin1"))), "x")).toBeUndefined();
    const damaged = Buffer.from(png);
    damaged.writeUInt8(damaged.readUInt8(damaged.length - 20) ^ 0xff, damaged.length - 20);
    expect(relabelPng(damaged, "x")).toBeUndefined();
    expect(relabelPng(png.subarray(0, png.length - 12), "x")).toBeUndefined();
    expect(relabelPng(Buffer.concat([png, Buffer.from("junk")]), "x")).toBeUndefined();
    expect(relabelPng(await pngWith(chunk("ZZZZ", Buffer.from("?"))), "x")).toBeUndefined();
    expect(relabelPng(await sharp({ create: { width: 4, height: 4, channels: 3, background: "#fff" } }).jpeg().toBuffer(), "x")).toBeUndefined();
  });
});
