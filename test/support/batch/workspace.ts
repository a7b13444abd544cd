/**
 * A batch workspace for tests: selfie folders built from the public-domain portraits
 * (test/support/selfies), a batch file and a preset file, in a temp folder with its own
 * HEADSHOT_HOME.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { goodSelfies, writeAll } from "../selfies/build.js";

export { goodSelfies };

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
