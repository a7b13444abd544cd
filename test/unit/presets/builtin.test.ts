import { describe, expect, it } from "vitest";
import { composePrompt, sizeForAspect } from "../../../src/presets/compose.js";
import { BUILTIN_PRESETS_DIR, listPresets, loadPreset } from "../../../src/presets/load.js";
import { applyVariation, expandVariations } from "../../../src/presets/variations.js";

const builtins = await listPresets([]);
const identity = { trigger: "ohwx", classWord: "woman" };

describe("built-in presets", () => {
  it("ships at least the ten professional styles", () => {
    const names = builtins.map((p) => p.name);
    expect(names.length).toBeGreaterThanOrEqual(10);
    for (const expected of ["corporate", "linkedin", "executive", "tech-startup", "creative-agency", "academic-speaker", "healthcare", "real-estate", "outdoor-environmental", "bw-editorial"]) {
      expect(names).toContain(expected);
    }
    expect(builtins.every((p) => p.builtin && p.path.startsWith(BUILTIN_PRESETS_DIR))).toBe(true);
  });

  it.each(builtins.map((p) => [p.name]))("%s validates and follows FLUX dev portrait practice", async (name) => {
    const preset = await loadPreset(name, { cwd: "/", userDirs: [] });
    expect(preset.name).toBe(name);
    expect(preset.description).toBeTruthy();
    expect(preset.generation.steps).toBeGreaterThanOrEqual(40);
    expect(preset.generation.steps).toBeLessThanOrEqual(50);
    expect(preset.generation.guidance).toBeGreaterThanOrEqual(2);
    expect(preset.generation.guidance).toBeLessThanOrEqual(3);
    for (const section of ["camera", "lighting", "skin"] as const) expect(preset.data[section]).toBeDefined();
    for (const field of ["attire", "background", "expression"] as const) expect(preset.data[field]).toBeTruthy();
  });

  it("are distinct: no two presets compose the same prompt", async () => {
    const prompts = new Set<string>();
    for (const p of builtins) {
      const preset = await loadPreset(p.name, { cwd: "/", userDirs: [] });
      prompts.add(composePrompt(preset.data, identity).prompt);
    }
    expect(prompts.size).toBe(builtins.length);
  });

  it.each(builtins.map((p) => [p.name]))("%s composes a deterministic prompt for every variation", async (name) => {
    const preset = await loadPreset(name, { cwd: "/", userDirs: [] });
    for (const variation of expandVariations(preset.data)) {
      const shot = applyVariation(preset.data, variation);
      const a = composePrompt(shot, identity);
      const b = composePrompt(structuredClone(shot), identity);
      expect(a).toEqual(b);
      // Trigger and class first.
      expect(a.prompt.startsWith("ohwx woman")).toBe(true);
      // No phrase repeated.
      const phrases = a.prompt.split(", ").map((p) => p.toLowerCase());
      expect(new Set(phrases).size).toBe(phrases.length);
      // Camera before lighting before attire before background before expression.
      const order = [shot.camera?.lens, shot.lighting?.mood, shot.attire, shot.background, shot.expression]
        .filter((x): x is string => Boolean(x))
        .map((x) => a.prompt.indexOf(x));
      expect(order.every((pos) => pos > 0)).toBe(true);
      expect([...order].sort((x, y) => x - y)).toEqual(order);
      // FLUX needs sizes in multiples of 16.
      expect(a.sampler.width % 16).toBe(0);
      expect(a.sampler.height % 16).toBe(0);
      expect((a.promptJson.subjects as Array<{ description: string }>)[0]?.description).toContain("ohwx woman");
    }
  });
});

describe("sizeForAspect", () => {
  it.each([
    ["1:1", 1024, 1024],
    ["4:5", 912, 1152],
    ["2:3", 832, 1248],
    ["16:9", 1360, 768],
  ])("%s -> %ix%i", (aspect, w, h) => {
    expect(sizeForAspect(aspect)).toEqual({ width: w, height: h });
  });
});
