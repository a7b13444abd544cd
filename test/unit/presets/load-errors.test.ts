import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigFileError, UsageError } from "../../../src/errors.js";
import { loadPreset, listPresets } from "../../../src/presets/load.js";
import { checkFragment, parseAssignment } from "../../../src/presets/paths.js";
import { tempWorkspace } from "../../support/run-cli.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
const write = (name: string, text: string) => writeFile(join(ws.dir, "presets", name), text);
const load = (ref: string) => loadPreset(ref, { cwd: ws.dir, userDirs: [join(ws.dir, "presets")] });

async function failure(ref: string): Promise<ConfigFileError> {
  try {
    await load(ref);
  } catch (error) {
    if (error instanceof ConfigFileError) return error;
    throw error;
  }
  throw new Error("expected a ConfigFileError");
}

beforeAll(async () => {
  ws = await tempWorkspace();
  await mkdir(join(ws.dir, "presets"));
});
afterAll(() => ws.cleanup());

describe("preset errors", () => {
  it("lists every problem at once with file:line:col and did-you-mean", async () => {
    await write(
      "broken.yaml",
      ["name: broken", "camera:", "  shot: head-and-shoulder", "  aperture: 2.8", "lightnig:", "  setup: rembrant", "generation:", "  steps: 80", ""].join("\n"),
    );
    const error = await failure("broken");
    const byMessage = (text: string) => error.diagnostics.find((d) => d.message.includes(text));
    expect(error.diagnostics).toHaveLength(4);
    const shot = byMessage('"head-and-shoulder" is not allowed');
    expect(shot?.location).toMatchObject({ line: 3, col: 9, lineText: "  shot: head-and-shoulder" });
    expect(shot?.hint).toContain('did you mean "head-and-shoulders"');
    const unknown = byMessage('unknown key "lightnig"');
    expect(unknown?.location).toMatchObject({ line: 5, col: 1, length: 8 });
    expect(unknown?.hint).toBe('did you mean "lighting"?');
    expect(byMessage("camera.aperture")?.location?.line).toBe(4);
    expect(byMessage("generation.steps")?.location?.line).toBe(8);
    expect(error.exitCode).toBe(2);
  });

  it("reports YAML syntax errors with their location", async () => {
    await write("syntax.yaml", "name: syntax\ncamera:\n  shot: [close-up\nattire: x\n");
    const error = await failure("syntax");
    expect(error.diagnostics[0]?.message).toMatch(/YAML syntax/);
    expect(error.diagnostics[0]?.location?.file).toContain("syntax.yaml");
  });

  it("detects extends cycles and points at the extends line", async () => {
    await write("a.yaml", "name: a\nextends: b\n");
    await write("b.yaml", "name: b\nextends: a\n");
    const error = await failure("a");
    expect(error.diagnostics[0]?.message).toContain("cycle: a.yaml -> b.yaml -> a.yaml");
    expect(error.diagnostics[0]?.location?.line).toBe(2);
  });

  it("follows extends across user and built-in presets, merging sections and adding avoid lists", async () => {
    await write("team.yaml", "extends: corporate\nlighting:\n  setup: rembrandt\navoid: [logos]\ngeneration:\n  steps: 40\n");
    const preset = await load("team");
    expect(preset.name).toBe("team");
    expect(preset.chain.map((p) => p.split("/").pop())).toEqual(["team.yaml", "corporate.yaml"]);
    expect(preset.data.lighting).toMatchObject({ setup: "rembrandt", keyDirection: "left" });
    expect(preset.data.avoid).toEqual(["sunglasses", "hats", "busy patterns", "harsh shadows", "logos"]);
    expect(preset.generation.steps).toBe(40);
    expect(preset.generation.guidance).toBe(2.5);
  });

  it("an unknown extends target suggests the nearest preset", async () => {
    await write("typo.yaml", "extends: corprate\n");
    const error = await failure("typo");
    expect(error.diagnostics[0]?.hint).toContain('did you mean "corporate"');
  });

  it("user presets shadow built-ins of the same name", async () => {
    await write("linkedin.yaml", "description: ours\n");
    const all = await listPresets([join(ws.dir, "presets")]);
    expect(all.find((p) => p.name === "linkedin")?.builtin).toBe(false);
    expect((await load("linkedin")).description).toBe("ours");
  });

  it("an unknown preset name suggests the nearest one", async () => {
    await expect(load("corprate")).rejects.toThrow(UsageError);
    await expect(load("corprate")).rejects.toMatchObject({ hint: expect.stringContaining('"corporate"') });
  });

  it("validates variation axes and values with locations", async () => {
    await write("vars.yaml", "variations:\n  lightng.setup: [rembrandt]\n  attire: [ok]\n  lighting.setup: [rembrant]\n");
    const error = await failure("vars");
    const messages = error.diagnostics.map((d) => d.message);
    expect(messages.some((m) => m.includes('unknown field "lightng"'))).toBe(true);
    expect(error.diagnostics.find((d) => d.message.includes("rembrant"))?.hint).toContain('"rembrandt"');
  });

  it("the same preset content always hashes the same, whatever the key order", async () => {
    await write("h1.yaml", "attire: x\nbackground: y\n");
    await write("h2.yaml", "background: y\nattire: x\n");
    expect((await load("h1")).hash).toBe((await load("h2")).hash);
  });
});

describe("--set paths", () => {
  it.each([
    ["lighting.setup=rembrandt", undefined],
    ["generation.steps=40", undefined],
    ["lighting.setp=rembrandt", 'did you mean "lighting.setup"?'],
    ["lighting.setup=rembrant", 'did you mean "rembrandt"?'],
    ["generation.steps=500", "generation.steps"],
  ])("%s", (raw, problem) => {
    const assignment = parseAssignment(raw);
    expect(assignment).toBeDefined();
    const found = checkFragment(assignment!.path, assignment!.value);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(`${found?.message} ${found?.hint ?? ""}`).toContain(problem);
  });
});
