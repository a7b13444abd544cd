import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { validatePresetFiles } from "../../../src/presets/load.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-preset-order-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BAD = `name: bad
extends: corporate
lighting:
  setup: rembrant
  colour: warm
camera:
  aperture: 2.8
  lense: 85mm
expresion: smile
`;

describe("preset problems (issue 15)", () => {
  it("are listed in line order, each with the fix a person would type", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(file, BAD);
    const { failed } = await validatePresetFiles([file], { cwd: dir, userDirs: [] });
    const problems = failed[0]?.diagnostics ?? [];
    expect(problems.map((d) => d.location?.line)).toEqual([4, 5, 7, 8, 9]);
    expect(problems.map((d) => d.hint?.match(/did you mean "([^"]+)"/)?.[1])).toEqual(["rembrandt", "colorTemperature", "f/2.8", "lens", "expression"]);
  });
});
