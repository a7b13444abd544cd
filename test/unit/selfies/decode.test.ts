import { describe, expect, it, vi } from "vitest";
import sharp from "sharp";
import { DecodeFailure, MAX_PIXELS, decoding, openImage, sniffFormat } from "../../../src/selfies/decode.js";
import { ASTRONAUT, astronaut, heicBrandedAvif, pixelBombPng, withOrientation } from "../../support/selfies/build.js";

async function failure(work: Promise<unknown>): Promise<DecodeFailure> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DecodeFailure);
  return error as DecodeFailure;
}

describe("openImage", () => {
  const small = sharp(ASTRONAUT).resize(96);

  it.each([
    ["jpeg", () => small.clone().jpeg().toBuffer()],
    ["png", () => small.clone().png().toBuffer()],
    ["webp", () => small.clone().webp().toBuffer()],
    ["avif", () => small.clone().avif().toBuffer()],
    ["tiff", () => small.clone().tiff().toBuffer()],
    ["gif", () => small.clone().gif().toBuffer()],
  ] as const)("reads %s, recognised by its bytes", async (format, make) => {
    const bytes = await make();
    expect(sniffFormat(bytes)).toBe(format);
    const opened = await openImage(bytes);
    expect([opened.width, opened.height]).toEqual([96, 96]);
    const { info } = await opened.pipeline().raw().toBuffer({ resolveWithObject: true });
    expect(info.width).toBe(96);
  });

  it("reads only the first frame of an animated GIF", async () => {
    const frame = await sharp(ASTRONAUT).resize(64).removeAlpha().raw().toBuffer();
    const strip = Buffer.concat([frame, Buffer.alloc(frame.length, 255)]);
    const gif = await sharp(strip, { raw: { width: 64, height: 128, channels: 3, pageHeight: 64 } as never }).gif().toBuffer();
    expect((await sharp(gif, { pages: -1 }).metadata()).pages).toBe(2);
    const opened = await openImage(gif);
    expect([opened.width, opened.height]).toEqual([64, 64]);
  });

  it("applies EXIF orientation 6 and 8 before anything else", async () => {
    const upright = await astronaut({ region: { left: 0, top: 0, width: 400, height: 512 }, size: 200 });
    for (const orientation of [6, 8] as const) {
      const stored = await withOrientation(upright, orientation);
      const meta = await sharp(stored).metadata();
      expect([meta.width, meta.height, meta.orientation]).toEqual([256, 200, orientation]);
      const opened = await openImage(stored);
      expect([opened.width, opened.height]).toEqual([200, 256]);
      const a = await opened.pipeline().resize(8, 8, { fit: "fill" }).greyscale().raw().toBuffer();
      const b = await sharp(upright).resize(8, 8, { fit: "fill" }).greyscale().raw().toBuffer();
      const diff = a.reduce((s, v, i) => s + Math.abs(v - (b[i] ?? 0)), 0) / a.length;
      expect(diff).toBeLessThan(12); // the same picture, upright
    }
  });

  it("refuses a 50000x50000 pixel bomb from its header, without decoding it", async () => {
    const before = process.memoryUsage().rss;
    const f = await failure(openImage(pixelBombPng()));
    expect(f.code).toBe("too_many_pixels");
    expect(f.message).toContain("50000x50000");
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 2 ** 20);
    expect(MAX_PIXELS).toBeLessThan(50_000 * 50_000);
  });

  it("reports empty files, non-images and cut-short JPEGs in plain words", async () => {
    expect((await failure(openImage(new Uint8Array(0)))).code).toBe("empty_file");
    expect((await failure(openImage(Buffer.from("hello, not a photo\n")))).code).toBe("not_an_image");
    const jpeg = await sharp(ASTRONAUT).jpeg().toBuffer();
    const cut = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    const opened = await openImage(cut); // the header is intact
    const f = await failure(decoding(opened.pipeline().raw().toBuffer()));
    expect(f.code).toBe("unreadable");
    expect(f.message).toMatch(/damaged or cut short/);
  });

  it("sends HEIC through the WASM decoder (heic-decode) and explains when it cannot decode", async () => {
    const heic = await heicBrandedAvif();
    expect(sniffFormat(heic)).toBe("heic");
    const write = vi.spyOn(process.stdout, "write");
    const f = await failure(openImage(heic));
    // libheif-js logs failures with console.log: it must not reach stdout (--json stays clean).
    expect(write).not.toHaveBeenCalled();
    write.mockRestore();
    expect(f.code).toBe("unreadable");
    expect(f.message).toMatch(/HEIC\/HEIF file could not be decoded \(HEIF processing error\)/);
    expect(f.fix).toMatch(/Most Compatible/);
  });
});
