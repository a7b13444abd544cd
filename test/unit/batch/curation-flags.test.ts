/**
 * A batch entry means what gen's flags mean (issue 16): the nearest of preset entry, person and
 * `defaults` wins, an inherited count does not apply under `until`, and the schema accepts every
 * curation flag at each level (and only those).
 */
import { describe, expect, it } from "vitest";
import { generateOptionsFor, presetFlags, resolveBatch } from "../../../src/batch/resolve.js";
import { batchSchema } from "../../../src/batch/schema.js";
import { checkGenerateOptions } from "../../../src/generate/options.js";

const loaded = (defaults: Record<string, unknown>, person: Record<string, unknown>, entry: Record<string, unknown> | string) => ({
  path: "/team/team.yaml",
  dir: "/team",
  batch: batchSchema.parse({ defaults, people: [{ name: "jane", identity: "jane", presets: [typeof entry === "string" ? entry : { preset: "linkedin", ...entry }], ...person }] }),
});

function optionsOf(defaults: Record<string, unknown>, person: Record<string, unknown>, entry: Record<string, unknown> | string) {
  const [p] = resolveBatch(loaded(defaults, person, entry), { cwd: "/team" }).people;
  return generateOptionsFor(p!, p!.presets[0]!, "jane", "/out/jane/linkedin", 6);
}

describe("batch curation flags", () => {
  it.each([
    ["defaults only", { keepBest: 3, crops: true }, {}, {}, { keepBest: 3, crops: true }],
    ["person over defaults", { keepBest: 3 }, { keepBest: 2 }, {}, { keepBest: 2 }],
    ["entry over person", { score: true }, { keepBest: 2 }, { keepBest: 1, polish: true }, { keepBest: 1, polish: true, score: true }],
    ["entry false over person true", {}, { polish: true }, { polish: false }, { polish: false }],
    ["per-run budget from the person", {}, { budget: 0.5 }, { until: 2, maxCount: 4 }, { budget: 0.5, until: 2, maxCount: 4 }],
  ])("%s", (_name, defaults, person, entry, expected) => {
    expect(optionsOf(defaults, person, entry)).toMatchObject({ preset: "linkedin", identity: "jane", out: "/out/jane/linkedin", backend: "replicate", ...expected });
  });

  it("a count inherited from defaults does not apply under until (gen would refuse both)", () => {
    const options = optionsOf({ count: 5 }, {}, { until: 2 });
    expect(options.count).toBeUndefined();
    expect(() => checkGenerateOptions(options)).not.toThrow();
    expect(optionsOf({ count: 5 }, {}, {}).count).toBe(5);
  });

  it.each([
    ["count and until on the same entry", {}, {}, { count: 3, until: 2 }],
    ["count and until on the same person", {}, { count: 3, until: 2 }, {}],
    ["count on the entry, until on the person", {}, { until: 2 }, { count: 3 }],
    ["count and until in defaults", { count: 3, until: 2 }, {}, {}],
  ])("%s is refused like gen --until --count", (_name, defaults, person, entry) => {
    const options = optionsOf(defaults, person, entry);
    expect(options.count).toBe(3);
    expect(() => checkGenerateOptions(options)).toThrow(/--until/);
  });

  it("a count on the person does not apply under an until on the entry", () => {
    expect(optionsOf({}, { count: 3 }, { until: 2 }).count).toBeUndefined();
  });

  it("passes gen's checks the same way: score: false with keepBest is refused with gen's words", () => {
    expect(() => checkGenerateOptions(optionsOf({ score: false }, {}, { keepBest: 2 }))).toThrow(/--no-score cannot be combined with --keep-best/);
    expect(() => checkGenerateOptions(optionsOf({}, {}, { maxCount: 4 }))).toThrow(/--max-count caps --until/);
  });

  it("a plain preset name inherits everything from the person", () => {
    const [p] = resolveBatch(loaded({ minSimilarity: 0.9 }, { crops: true }, "linkedin"), { cwd: "/team" }).people;
    expect(p!.presets[0]!.flags).toBeUndefined();
    expect(presetFlags(p!, p!.presets[0]!)).toMatchObject({ minSimilarity: 0.9, crops: true });
  });

  it("the schema refuses an unknown key on a preset entry", () => {
    const parsed = batchSchema.safeParse({ people: [{ name: "jane", identity: "jane", presets: [{ preset: "linkedin", keepbest: 2 }] }] });
    expect(parsed.success).toBe(false);
  });
});
