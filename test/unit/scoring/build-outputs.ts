/**
 * "Generated-like" 1 MP outputs built in code from the two public-domain portraits
 * (test/fixtures/faces, see its PROVENANCE.md): the transformations a generator's output differs
 * from a selfie by (framing, light, background, scale, a slight rotation, softness), applied
 * identically to both people, so a score that separates them is about the face, not the edit.
 */
import sharp, { type Sharp } from "sharp";
import { ASTRONAUT, HOPPER, astronaut, writeAll } from "../../support/selfies/build.js";

export { ASTRONAUT, HOPPER, writeAll };

export const OUTPUT_SIZE = 1024;

type Person = "collins" | "hopper";
const SOURCE: Record<Person, string> = { collins: ASTRONAUT, hopper: HOPPER };

async function base(person: Person): Promise<Sharp> {
  return sharp(await sharp(SOURCE[person]).removeAlpha().toBuffer());
}

async function onBackground(person: Person, scale: number, colour: string, top = 0.12): Promise<Buffer> {
  const side = Math.round(OUTPUT_SIZE * scale);
  const portrait = await (await base(person)).resize(side, side, { fit: "cover", position: "top" }).png().toBuffer();
  return sharp({ create: { width: OUTPUT_SIZE, height: OUTPUT_SIZE, channels: 3, background: colour } })
    .composite([{ input: portrait, left: Math.round((OUTPUT_SIZE - side) / 2), top: Math.round(OUTPUT_SIZE * top) }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** The transformation names, in a fixed order. */
export const TRANSFORMS = ["full", "relit-up", "relit-down", "teal-background", "small-on-canvas", "rotated", "soft", "warm"] as const;
export type Transform = (typeof TRANSFORMS)[number];

/** One 1024x1024 JPEG of `person` under `transform`. */
export async function generatedLike(person: Person, transform: Transform): Promise<Buffer> {
  const square = async (): Promise<Sharp> => sharp(await (await base(person)).resize(OUTPUT_SIZE, OUTPUT_SIZE, { fit: "cover", position: "top" }).toBuffer());
  switch (transform) {
    case "full":
      return (await square()).jpeg({ quality: 90 }).toBuffer();
    case "relit-up":
      return (await square()).modulate({ brightness: 1.2 }).jpeg({ quality: 90 }).toBuffer();
    case "relit-down":
      return (await square()).modulate({ brightness: 0.75 }).jpeg({ quality: 90 }).toBuffer();
    case "teal-background":
      return onBackground(person, 0.8, "#2a6f77");
    case "small-on-canvas":
      return onBackground(person, 0.42, "#c9c3b8", 0.25);
    case "rotated": {
      const turned = await (await square()).rotate(6, { background: "#8a8f96" }).toBuffer();
      return sharp(turned).resize(OUTPUT_SIZE, OUTPUT_SIZE, { fit: "cover" }).jpeg({ quality: 90 }).toBuffer();
    }
    case "soft":
      return (await square()).blur(1.6).jpeg({ quality: 90 }).toBuffer();
    case "warm":
      return (await square()).recomb([[1.1, 0.05, 0], [0, 1, 0], [0, 0.05, 0.85]]).jpeg({ quality: 90 }).toBuffer();
  }
}

/** Six "selfies" of Eileen Collins: different crops, a flip, re-lit, rotated (as check's tests use). */
export async function collinsSelfies(): Promise<Record<string, Buffer>> {
  return {
    "s-full.jpg": await astronaut({ size: 1100 }),
    "s-flip.jpg": await astronaut({ region: { left: 60, top: 0, width: 452, height: 452 }, flip: true, size: 1150 }),
    "s-relit.jpg": await astronaut({ region: { left: 0, top: 10, width: 400, height: 480 }, brightness: 1.15, size: 1100 }),
    "s-rotated.jpg": await astronaut({ region: { left: 16, top: 0, width: 480, height: 480 }, rotate: 7, size: 1100 }),
    "s-tight.jpg": await astronaut({ region: { left: 110, top: 10, width: 280, height: 300 }, size: 1050 }),
    "s-lower.jpg": await astronaut({ region: { left: 30, top: 40, width: 440, height: 460 }, brightness: 0.9, size: 1080 }),
  };
}

/** A plain image with no face, and two people side by side (1 MP each). */
export async function noFace(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${OUTPUT_SIZE}" height="${OUTPUT_SIZE}"><defs><linearGradient id="g"><stop offset="0" stop-color="#35506b"/><stop offset="1" stop-color="#c9d3dd"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/><rect x="300" y="600" width="420" height="424" fill="#222c36"/></svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 90 }).toBuffer();
}

export async function twoPeople(): Promise<Buffer> {
  const half = OUTPUT_SIZE / 2;
  const a = await (await base("collins")).resize(half, Math.round(OUTPUT_SIZE * 0.7), { fit: "cover", position: "top" }).toBuffer();
  const h = await (await base("hopper")).resize(half, Math.round(OUTPUT_SIZE * 0.7), { fit: "cover", position: "top" }).toBuffer();
  return sharp({ create: { width: OUTPUT_SIZE, height: OUTPUT_SIZE, channels: 3, background: "#ffffff" } })
    .composite([{ input: a, left: 0, top: 150 }, { input: h, left: half, top: 150 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/**
 * A folder as `gen` leaves it: each image re-encoded by the generation writer with its XMP label,
 * a sidecar JSON next to it (same fields the engine writes). Returns the file names.
 */
export async function writeGenLikeFolder(dir: string, images: Record<string, Buffer>): Promise<string[]> {
  const { mkdir, writeFile, rm } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const { writeFinalImage, writeSidecar, sidecarPathFor } = await import("../../../src/generation/writer.js");
  await mkdir(dir, { recursive: true });
  const names: string[] = [];
  let seed = 1000;
  for (const [name, data] of Object.entries(images)) {
    const raw = join(dir, `.raw-${name}`);
    await writeFile(raw, data);
    const target = join(dir, name.replace(/\.[^.]+$/, ".png"));
    const key = name.replace(/\.[^.]+$/, "");
    const createdAt = "2026-11-27T06:00:00.000Z";
    const prompt = `corporate headshot of ohwx woman, ${key.replace(/-/g, " ")}, soft studio light`;
    seed++;
    const xmp = { prompt, seed, model: "flux-dev-lora", preset: "corporate", key, placeholder: false, createdAt, tool: "headshot 0.1.0" };
    const final = await writeFinalImage({ rawPath: raw, targetPath: target, format: "png", quality: 90, xmp });
    await rm(raw);
    await writeSidecar(sidecarPathFor(target), { file: target.split("/").pop()!, sha256: final.sha256, width: final.width, height: final.height, ...xmp });
    names.push(target.split("/").pop()!);
  }
  return names.sort();
}
