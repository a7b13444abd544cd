/**
 * The AI-generated label is readable by common readers: exifr (PNG, JPEG) and ExifTool (PNG, JPEG,
 * WebP) read `Iptc4xmpExt:DigitalSourceType` from the files the writer produces. In PNG the packet
 * sits in an uncompressed iTXt chunk `XML:com.adobe.xmp` (XMP spec part 3), not libvips' zTXt.
 * The ExifTool part runs when `exiftool` is installed (Debian: libimage-exiftool-perl; .ci/run
 * installs it) and says it is skipped otherwise.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import exifr from "exifr";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readPngXmp, withPngXmp } from "../../../src/generation/png-xmp.js";
import { writeFinalImage, type OutputFormat } from "../../../src/generation/writer.js";
import { DIGITAL_SOURCE_TYPE, type XmpFields } from "../../../src/generation/xmp.js";

const FIELDS: XmpFields = { prompt: "ohwx woman, 85mm, soft light & \"quotes\" <ok>", seed: 42, model: "black-forest-labs/flux-dev-lora", preset: "corporate", key: "a-001", placeholder: false, createdAt: "2026-12-07T08:00:00.000Z", tool: "headshot 0.1.0" };
const FORMATS: OutputFormat[] = ["png", "jpg", "webp"];

let dir: string;
const files = new Map<OutputFormat, string>();

function exiftoolVersion(): string | undefined {
  try {
    return execFileSync("exiftool", ["-ver"], { encoding: "utf8", timeout: 30_000 }).trim();
  } catch {
    return undefined;
  }
}
const exiftool = exiftoolVersion();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-xmp-"));
  const raw = join(dir, "raw.png");
  await sharp({ create: { width: 48, height: 60, channels: 3, background: { r: 120, g: 90, b: 70 } } }).png().toFile(raw);
  for (const format of FORMATS) {
    const target = join(dir, `out.${format}`);
    await writeFinalImage({ rawPath: raw, targetPath: target, format, quality: 90, xmp: FIELDS });
    files.set(format, target);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("PNG XMP chunk", () => {
  it("is one uncompressed iTXt chunk XML:com.adobe.xmp, placed before the image data", async () => {
    const png = await readFile(files.get("png") as string);
    const found = readPngXmp(png);
    expect(found?.chunk).toBe("iTXt");
    expect(found?.xmp).toContain(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
    expect(png.indexOf("zTXt")).toBe(-1);
    expect(png.indexOf("XML:com.adobe.xmp")).toBeLessThan(png.indexOf("IDAT"));
    // The image itself is untouched and still decodes.
    expect((await sharp(png).metadata()).width).toBe(48);
  });

  it("replaces an earlier XMP chunk instead of adding a second", async () => {
    const png = await readFile(files.get("png") as string);
    const again = withPngXmp(png, "<x:xmpmeta/>");
    expect(again.toString("latin1").split("XML:com.adobe.xmp").length - 1).toBe(1);
    expect(readPngXmp(again)?.xmp).toBe("<x:xmpmeta/>");
  });
});

describe("exifr reads DigitalSourceType", () => {
  it.each(["png", "jpg"] as const)("%s", async (format) => {
    const parsed = (await exifr.parse(files.get(format) as string, { xmp: true, tiff: false })) as Record<string, unknown> | undefined;
    expect(parsed?.DigitalSourceType).toBe(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
  });
});

describe.skipIf(!exiftool)(`ExifTool ${exiftool ?? "(not installed: apt-get install libimage-exiftool-perl; skipped)"} reads DigitalSourceType`, () => {
  it.each(FORMATS)("%s", (format) => {
    const out = JSON.parse(execFileSync("exiftool", ["-j", "-XMP-iptcExt:DigitalSourceType", "-XMP-dc:Description", files.get(format) as string], { encoding: "utf8", timeout: 30_000 })) as Array<Record<string, unknown>>;
    expect(out[0]?.DigitalSourceType).toBe(DIGITAL_SOURCE_TYPE.trainedAlgorithmicMedia);
    expect(out[0]?.Description).toBe(FIELDS.prompt);
  });
});

if (!exiftool) process.stdout.write("note: exiftool is not installed; the ExifTool reader checks are skipped (Debian: apt-get install libimage-exiftool-perl)\n");
