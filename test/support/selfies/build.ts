/**
 * Builds test selfies in code from the two public-domain portraits in test/fixtures/faces
 * (see its PROVENANCE.md): the same person cropped, flipped, re-lit and rotated, the other person
 * as an identity outlier, and every planted defect the check must catch.
 */
import { deflateSync, crc32 } from "node:zlib";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";

export const FACES_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "faces");
export const ASTRONAUT = join(FACES_DIR, "astronaut.png"); // Eileen Collins, 512x512, face ~145 px
export const HOPPER = join(FACES_DIR, "grace_hopper.jpg"); // Grace Hopper, 512x600, face ~280 px

type Region = { left: number; top: number; width: number; height: number };

/** A crop of the astronaut portrait scaled to `size` px wide, as a JPEG (sharp resamples, no EXIF). */
export async function astronaut(options: { region?: Region; size?: number; flip?: boolean; brightness?: number; rotate?: number; blur?: number; gain?: number } = {}): Promise<Buffer> {
  let img = sharp(ASTRONAUT).removeAlpha();
  if (options.region) img = sharp(await img.extract(options.region).toBuffer());
  if (options.flip) img = img.flop();
  if (options.rotate) img = sharp(await img.rotate(options.rotate, { background: "#7d8792" }).toBuffer());
  img = img.resize(options.size ?? 1100);
  if (options.brightness) img = img.modulate({ brightness: options.brightness });
  if (options.gain !== undefined) img = img.linear(options.gain, 0);
  if (options.blur) img = img.blur(options.blur);
  return img.jpeg({ quality: 92 }).toBuffer();
}

export async function hopper(size = 1100): Promise<Buffer> {
  return sharp(HOPPER).resize(size).jpeg({ quality: 92 }).toBuffer();
}

/** A portrait of `faceScale` x the original placed on a plain canvas (wide shots, tiny faces). */
export async function onCanvas(canvas: number, scale: number, at: { left: number; top: number }): Promise<Buffer> {
  const portrait = await sharp(ASTRONAUT).removeAlpha().resize(Math.round(512 * scale)).png().toBuffer();
  return sharp({ create: { width: canvas, height: canvas, channels: 3, background: "#7d8792" } })
    .composite([{ input: portrait, ...at }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

/** Two different people side by side. */
export async function twoFaces(): Promise<Buffer> {
  const a = await sharp(ASTRONAUT).removeAlpha().resize(700, 800, { fit: "cover" }).toBuffer();
  const g = await sharp(HOPPER).resize(700, 800, { fit: "cover" }).toBuffer();
  return sharp({ create: { width: 1400, height: 1100, channels: 3, background: "#ffffff" } })
    .composite([{ input: a, left: 0, top: 150 }, { input: g, left: 700, top: 150 }])
    .jpeg({ quality: 92 })
    .toBuffer();
}

/**
 * An upright JPEG stored sideways with an EXIF orientation tag, as phones write them:
 * orientation 6 means "rotate 90° clockwise to display", 8 "rotate 90° counter-clockwise".
 */
export async function withOrientation(upright: Buffer, orientation: 6 | 8): Promise<Buffer> {
  return sharp(upright).rotate(orientation === 6 ? 270 : 90).withMetadata({ orientation }).jpeg({ quality: 92 }).toBuffer();
}

/** The Eiffel tower's coordinates in EXIF GPS tags, plus a phone make and model. */
export async function withGps(image: Buffer): Promise<Buffer> {
  return sharp(image)
    .withExif({
      IFD0: { Make: "Apple", Model: "iPhone 15" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "48/1 51/1 2964/100", GPSLongitudeRef: "E", GPSLongitude: "2/1 17/1 4000/100" },
    })
    .jpeg({ quality: 92 })
    .toBuffer();
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid-looking PNG whose header claims width x height pixels, with only a few rows of data. */
export function pixelBombPng(width = 50_000, height = 50_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
  const rows = deflateSync(Buffer.alloc((width * 3 + 1) * 4));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", rows), chunk("IEND", Buffer.alloc(0))]);
}

/**
 * A HEIF container with the iPhone "heic" brand whose only image is AV1-coded (sharp can write
 * AVIF but no HEVC, and nothing on this machine encodes HEVC). It exercises the heic-decode
 * (libheif WASM) path up to the codec, which libheif-js does not include for AV1: an honest
 * "cannot decode" rather than a fake HEIC.
 */
export async function heicBrandedAvif(): Promise<Buffer> {
  const avif = Buffer.from(await sharp(ASTRONAUT).resize(256).avif().toBuffer());
  const ftypSize = avif.readUInt32BE(0);
  for (let i = 8; i + 4 <= ftypSize; i += 4) if (avif.toString("latin1", i, i + 4) === "avif") avif.write("heic", i, "latin1");
  return avif;
}

/** Writes name -> bytes into dir. */
export async function writeAll(dir: string, files: Record<string, Buffer | string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(Object.entries(files).map(([name, data]) => writeFile(join(dir, name), data)));
}

/** The planted folder shared by the check tests: file name -> what it is. */
export async function buildPlantedFolder(dir: string): Promise<void> {
  const full = await astronaut({ size: 1100 });
  await writeAll(dir, {
    // The same person, usable: different crops, a flip, re-lit, rotated, a wide shot.
    "a-full.jpg": full,
    "a-flip.jpg": await astronaut({ region: { left: 60, top: 0, width: 452, height: 452 }, flip: true, size: 1150 }),
    "a-relit.jpg": await astronaut({ region: { left: 0, top: 10, width: 400, height: 480 }, brightness: 1.15, size: 1100 }),
    "a-rotated.jpg": await astronaut({ region: { left: 16, top: 0, width: 480, height: 480 }, rotate: 7, size: 1100 }),
    "a-tight.jpg": await astronaut({ region: { left: 110, top: 10, width: 280, height: 300 }, size: 1050 }),
    "a-wide.jpg": await onCanvas(2000, 2.2, { left: 300, top: 400 }),
    "a-orient6.jpg": await withOrientation(await astronaut({ region: { left: 20, top: 0, width: 470, height: 500 }, size: 1080 }), 6),
    "a-orient8.jpg": await withOrientation(await astronaut({ region: { left: 90, top: 0, width: 422, height: 470 }, size: 1120 }), 8),
    "a-gps.jpg": await withGps(await astronaut({ region: { left: 70, top: 30, width: 360, height: 380 }, size: 1100 })),
    "a-lowres.jpg": await astronaut({ region: { left: 30, top: 20, width: 440, height: 480 }, flip: true, rotate: -5, size: 800 }),
    // Duplicates: an exact copy, and the same shot re-encoded as PNG at another size.
    "a-full-copy.jpg": full,
    "a-full-again.png": await sharp(full).resize(1080).png().toBuffer(),
    // Defects.
    "a-blurry.jpg": await astronaut({ region: { left: 50, top: 20, width: 400, height: 440 }, size: 1100, blur: 5 }),
    "a-dark.jpg": await astronaut({ region: { left: 100, top: 0, width: 412, height: 412 }, size: 1100, gain: 0.22 }),
    "a-tiny-face.jpg": await onCanvas(2600, 0.55, { left: 1100, top: 900 }),
    "b-other-person.jpg": await hopper(1100),
    "group.jpg": await twoFaces(),
    "small.jpg": await astronaut({ size: 400 }),
    "truncated.jpg": full.subarray(0, Math.floor(full.length * 0.6)),
    "empty.jpg": Buffer.alloc(0),
    "notes.txt": "my selfies for the headshot\n",
    "bomb.png": pixelBombPng(),
    "iphone.heic": await heicBrandedAvif(),
  });
}

let goodSet: Record<string, Buffer> | undefined;

/** Eight usable selfies of one person (crops, a flip, re-lit, rotated, a wide shot), built once. */
export async function goodSelfies(): Promise<Record<string, Buffer>> {
  goodSet ??= {
    "a-full.jpg": await astronaut({ size: 1100 }),
    "a-flip.jpg": await astronaut({ region: { left: 60, top: 0, width: 452, height: 452 }, flip: true, size: 1150 }),
    "a-relit.jpg": await astronaut({ region: { left: 0, top: 10, width: 400, height: 480 }, brightness: 1.15, size: 1100 }),
    "a-rotated.jpg": await astronaut({ region: { left: 16, top: 0, width: 480, height: 480 }, rotate: 7, size: 1100 }),
    "a-tight.jpg": await astronaut({ region: { left: 110, top: 10, width: 280, height: 300 }, size: 1050 }),
    "a-wide.jpg": await onCanvas(2000, 2.2, { left: 300, top: 400 }),
    "a-left.jpg": await astronaut({ region: { left: 20, top: 0, width: 470, height: 500 }, size: 1080 }),
    "a-right.jpg": await astronaut({ region: { left: 90, top: 0, width: 422, height: 470 }, size: 1120 }),
  };
  return goodSet;
}
