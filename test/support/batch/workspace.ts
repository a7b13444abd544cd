/**
 * A batch workspace for tests: selfie folders built from the public-domain portraits
 * (test/support/selfies), a batch file and a preset file, in a temp folder with its own
 * HEADSHOT_HOME.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { astronaut, onCanvas, writeAll } from "../selfies/build.js";

let cached: Record<string, Buffer> | undefined;

/** Eight usable selfies of one person (crops, a flip, re-lit, rotated, a wide shot). */
export async function goodSelfies(): Promise<Record<string, Buffer>> {
  cached ??= {
    "a-full.jpg": await astronaut({ size: 1100 }),
    "a-flip.jpg": await astronaut({ region: { left: 60, top: 0, width: 452, height: 452 }, flip: true, size: 1150 }),
    "a-relit.jpg": await astronaut({ region: { left: 0, top: 10, width: 400, height: 480 }, brightness: 1.15, size: 1100 }),
    "a-rotated.jpg": await astronaut({ region: { left: 16, top: 0, width: 480, height: 480 }, rotate: 7, size: 1100 }),
    "a-tight.jpg": await astronaut({ region: { left: 110, top: 10, width: 280, height: 300 }, size: 1050 }),
    "a-wide.jpg": await onCanvas(2000, 2.2, { left: 300, top: 400 }),
    "a-left.jpg": await astronaut({ region: { left: 20, top: 0, width: 470, height: 500 }, size: 1080 }),
    "a-right.jpg": await astronaut({ region: { left: 90, top: 0, width: 422, height: 470 }, size: 1120 }),
  };
  return cached;
}

export async function writeSelfies(dir: string): Promise<string> {
  await writeAll(dir, await goodSelfies());
  return dir;
}

/** A small preset that extends a built-in one (two variations: both lighting looks). */
export const BRAND_PRESET = `name: brand
description: Test house style.
extends: corporate
background: smooth teal studio backdrop
generation:
  count: 2
`;

export async function writeText(path: string, text: string): Promise<string> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, text);
  return path;
}
