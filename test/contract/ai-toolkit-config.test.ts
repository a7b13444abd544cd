/**
 * Contract test: the ai-toolkit job YAML headshot writes, for every recipe and the options that
 * change it, read back and checked key by key against the keys and value types ai-toolkit reads
 * (recorded from ostris/ai-toolkit toolkit/config_modules.py and the sd_trainer process classes at
 * a pinned commit: test/fixtures/ai-toolkit/config-keys.json). A misspelt or retyped key, which
 * ai-toolkit would silently ignore, fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderJobYaml } from "../../src/training/ai-toolkit/config.js";
import { buildTrainPlan, type TrainPlanInput } from "../../src/training/plan.js";
import { RECIPE_IDS } from "../../src/training/recipes.js";

interface KeySpec {
  types: string[];
}
interface Recorded {
  repository: string;
  commit: string;
  sections: Record<string, { class: string | null; keys: Record<string, KeySpec> }>;
}
const recorded = JSON.parse(readFileSync(join(import.meta.dirname, "..", "fixtures", "ai-toolkit", "config-keys.json"), "utf8")) as Recorded;

type Obj = Record<string, unknown>;
const jsonType = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "number" ? (Number.isInteger(v) ? "integer" : "number") : typeof v);
const fits = (spec: KeySpec, value: unknown): boolean => {
  if (!spec.types.length) return true;
  const t = jsonType(value);
  return spec.types.includes(t) || (t === "integer" && spec.types.includes("number"));
};

/** Problems with one section object against the recorded keys of its section. */
function check(section: string, value: unknown, out: string[]): void {
  const spec = recorded.sections[section];
  if (!spec) throw new Error(`no recorded section ${section}`);
  for (const [key, v] of Object.entries(value as Obj)) {
    const keySpec = spec.keys[key];
    if (!keySpec) out.push(`${section}.${key}: not read by ai-toolkit (${spec.class ?? "process"})`);
    else if (!fits(keySpec, v)) out.push(`${section}.${key}: ${jsonType(v)} where ai-toolkit expects ${keySpec.types.join(" or ")}`);
  }
}

function problemsOf(job: Obj): string[] {
  const out: string[] = [];
  expect(Object.keys(job).sort()).toEqual(["config", "job", "meta"]);
  expect(job.job).toBe("extension");
  const config = job.config as Obj;
  expect(Object.keys(config).sort()).toEqual(["name", "process"]);
  const processes = config.process as Obj[];
  expect(processes).toHaveLength(1);
  const proc = processes[0] as Obj;
  check("process", proc, out);
  for (const section of ["network", "save", "train", "model", "sample"]) check(section, proc[section], out);
  for (const dataset of proc.datasets as Obj[]) check("datasets[]", dataset, out);
  const train = proc.train as Obj;
  if (train.ema_config) check("train.ema_config", train.ema_config, out);
  return out;
}

const GPU = (gib: number) => ({ index: 0, name: `GPU ${gib} GB`, totalMiB: gib * 1024, freeMiB: gib * 1024 - 300 });
const VARIANTS: Array<[string, Partial<TrainPlanInput>]> = [
  ["defaults on a 24 GB GPU", { gpu: GPU(24) }],
  ["80 GB GPU (no quantize)", { gpu: GPU(80) }],
  ["--sample-every 0 (no sampling)", { gpu: GPU(24), sampleEvery: 0 }],
  ["--low-vram --quantize", { gpu: GPU(24), lowVram: true, quantize: true }],
  ["--steps 10 --rank 1 --lr 1e-5", { gpu: GPU(24), steps: 10, rank: 1, lr: 1e-5 }],
  ["--steps 20000 --rank 128", { gpu: GPU(80), steps: 20_000, rank: 128 }],
  ["one resolution", { gpu: GPU(24), resolutions: [1024] }],
];
const rows: string[] = [];
afterAll(() => {
  process.stdout.write(`\nai-toolkit job contract (${recorded.repository}@${recorded.commit.slice(0, 12)})\n| recipe | options | keys checked | result |\n| --- | --- | --- | --- |\n${rows.join("\n")}\n`);
});

describe("the job YAML uses only keys ai-toolkit reads, with the types it expects", () => {
  for (const recipe of RECIPE_IDS) {
    it.each(VARIANTS)(`${recipe}: %s`, (label, over) => {
      // FLUX.2-dev needs a 48 GB card to load at all (its 24B text encoder in bf16): give it one.
      const gpu = recipe === "flux2-dev" && over.gpu && over.gpu.totalMiB < 48 * 1024 ? { gpu: GPU(48) } : {};
      const plan = buildTrainPlan({ name: "jane", home: "/home/u/.local/share/headshot", selfiesDir: "/home/u/selfies", recipe, ...over, ...gpu });
      const job = parse(renderJobYaml(plan)) as Obj;
      expect(problemsOf(job)).toEqual([]);
      const proc = ((job.config as Obj).process as Obj[])[0] as Obj;
      const count = Object.keys(proc).length + ["network", "save", "train", "model", "sample"].reduce((n, s) => n + Object.keys(proc[s] as Obj).length, 0);
      rows.push(`| ${recipe} | ${label} | ${count} | valid |`);
    });
  }

  it("catches a misspelt key and a wrong type (the check can fail)", () => {
    const plan = buildTrainPlan({ name: "jane", home: "/h", selfiesDir: "/s", gpu: GPU(24) });
    const job = parse(renderJobYaml(plan)) as Obj;
    const proc = ((job.config as Obj).process as Obj[])[0] as Obj;
    (proc.train as Obj).learning_rate = 1e-4;
    (proc.model as Obj).quantize = "yes";
    expect(problemsOf(job)).toEqual(["train.learning_rate: not read by ai-toolkit (TrainConfig)", "model.quantize: string where ai-toolkit expects boolean"]);
  });
});
