/**
 * Contract test: every built-in preset x every Replicate model headshot calls x the flags that
 * change inputs, built through the real plan builder (`preparePlan` -> `modelInputs`) into the
 * exact `input` the tool sends, and checked against the model's recorded real schema
 * (test/fixtures/replicate/models/) by both validators: headshot's own (strict: unknown keys are
 * errors) and the emulator's ajv. Prints a coverage table.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { preparePlan, type GenOptions } from "../../src/generation/prepare-plan.js";
import { MAX_REFERENCE_IMAGES, type GenModel } from "../../src/generation/model-inputs.js";
import { MAX_SEED } from "../../src/generation/plan.js";
import { listPresets } from "../../src/presets/load.js";
import { ASPECT_RATIOS, OUTPUT_FORMATS } from "../../src/presets/schema.js";
import { validateInputAgainst, type OpenApiDocument } from "../../src/replicate/index.js";
import { trainedVersionSchema } from "../support/replicate-emulator/catalog.js";
import { recordedModel } from "../support/replicate-emulator/recorded-schemas.js";
import { validateInput as emulatorValidate } from "../support/replicate-emulator/validate.js";

type ReplicateModel = Exclude<GenModel, "local" | "test"> | "trained-version (cog-flux hotswap)";
interface Variant {
  label: string;
  options: Partial<GenOptions>;
  /** Reference images sent (FLUX.2 reference mode). */
  refs?: number;
}

const SCHEMAS: Record<ReplicateModel, OpenApiDocument> = {
  "trained-version": trainedVersionSchema() as OpenApiDocument,
  // Recent destination versions of the same trainer run cog-flux's HotswapPredictor: same request.
  "trained-version (cog-flux hotswap)": recordedModel("el8245/me").openapi_schema as OpenApiDocument,
  "flux-dev-lora": recordedModel("black-forest-labs/flux-dev-lora").openapi_schema as OpenApiDocument,
  "flux-2-dev": recordedModel("black-forest-labs/flux-2-dev").openapi_schema as OpenApiDocument,
  "flux-2-pro": recordedModel("black-forest-labs/flux-2-pro").openapi_schema as OpenApiDocument,
  "flux-2-klein-4b": recordedModel("black-forest-labs/flux-2-klein-4b").openapi_schema as OpenApiDocument,
};
const REFERENCE_FIELD: Partial<Record<ReplicateModel, string>> = { "flux-2-dev": "input_images", "flux-2-pro": "input_images", "flux-2-klein-4b": "images" };

function variantsFor(model: ReplicateModel): Variant[] {
  const out: Variant[] = [{ label: "preset as is", options: {} }];
  for (const f of OUTPUT_FORMATS) out.push({ label: `--format ${f}`, options: { format: f } });
  for (const a of ASPECT_RATIOS) out.push({ label: `--set generation.aspectRatio=${a}`, options: { set: [`generation.aspectRatio=${a}`] } });
  out.push({ label: "--seed 0", options: { seed: 0 } }, { label: `--seed ${MAX_SEED}`, options: { seed: MAX_SEED } });
  for (const q of [1, 100]) out.push({ label: `--set generation.outputQuality=${q}`, options: { set: [`generation.outputQuality=${q}`] } });
  const ref = REFERENCE_FIELD[model];
  if (ref) {
    const max = MAX_REFERENCE_IMAGES[model as keyof typeof MAX_REFERENCE_IMAGES];
    out.push({ label: "--ref (1 image)", options: {}, refs: 1 }, { label: `--ref (${max} images, the most headshot sends)`, options: {}, refs: max });
    return out;
  }
  // Sampler fields only the FLUX.1 LoRA models take, at the ends of the preset schema's ranges
  // that these models accept (lora_scale: -1..2 is what both take; see the refusal test below).
  for (const s of ["generation.steps=1", "generation.steps=50", "generation.guidance=0", "generation.guidance=10", "generation.loraScale=-1", "generation.loraScale=2"]) {
    out.push({ label: `--set ${s}`, options: { set: [s] } });
  }
  return out;
}

let dir: string;
const rows: Array<{ model: ReplicateModel; variant: string; presets: number; requests: number }> = [];
const presets = (await listPresets([])).map((p) => p.name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-contract-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  const table = [
    "| model | flags | presets | requests | result |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.model} | ${r.variant} | ${r.presets} | ${r.requests} | valid |`),
  ].join("\n");
  process.stdout.write(`\nReplicate input contract: ${rows.reduce((n, r) => n + r.requests, 0)} requests checked against recorded schemas\n${table}\n`);
});

async function requestsFor(preset: string, model: ReplicateModel, variant: Variant): Promise<Array<Record<string, unknown>>> {
  const refMode = REFERENCE_FIELD[model] !== undefined;
  const options: GenOptions = {
    preset,
    backend: "replicate",
    concurrency: 1,
    count: 4,
    out: join(dir, "out"),
    identity: refMode ? undefined : { name: "jane", trigger: "ohwx", classWord: "woman", trainedOn: model.startsWith("trained-version") ? "replicate" : "local" },
    ...(refMode ? { ref: "./selfies", model } : { model }),
    ...(model === "flux-dev-lora" ? { loraUrl: "jane-doe/headshot-jane" } : {}),
    seed: 1234,
    ...variant.options,
  };
  const plan = await preparePlan({ ...options, ...(options.model === "trained-version (cog-flux hotswap)" ? { model: "trained-version" } : {}) }, { cwd: dir, presetDirs: [] });
  expect(plan.model).toBe(model.split(" ")[0]);
  const field = REFERENCE_FIELD[model];
  // What run-gen sends once the references are uploaded: the placeholder replaced by their URLs.
  const urls = Array.from({ length: variant.refs ?? 0 }, (_, i) => `https://api.replicate.com/v1/files/ref${i}`);
  return plan.images.map((image) => (field ? { ...image.inputs, [field]: urls } : image.inputs));
}

describe("every built-in preset's requests fit every model's recorded schema", () => {
  for (const model of Object.keys(SCHEMAS) as ReplicateModel[]) {
    it.each(variantsFor(model).map((v) => [v.label, v] as const))(`${model}: %s`, async (_label, variant) => {
      let requests = 0;
      for (const preset of presets) {
        for (const input of await requestsFor(preset, model, variant)) {
          const ours = validateInputAgainst(SCHEMAS[model], input).map((p) => `${p.field}: ${p.description}`);
          const emulator = emulatorValidate(SCHEMAS[model], input).map((p) => `${p.field}: ${p.description}`);
          expect({ preset, ours, emulator }).toEqual({ preset, ours: [], emulator: [] });
          requests++;
        }
      }
      rows.push({ model, variant: variant.label, presets: presets.length, requests });
    });
  }
});

describe("what the recorded schemas refuse, headshot refuses before paying", () => {
  it("lora_scale above 2 is refused on a trained version (flux-fine-tuner predict.py le=2) but fits flux-dev-lora (cog-flux le=3)", async () => {
    const [trained] = await requestsFor("corporate", "trained-version", { label: "", options: { set: ["generation.loraScale=2.5"] } });
    expect(validateInputAgainst(SCHEMAS["trained-version"], trained ?? {}).map((p) => p.type)).toEqual(["number_lte"]);
    const [lora] = await requestsFor("corporate", "flux-dev-lora", { label: "", options: { set: ["generation.loraScale=2.5"] } });
    expect(validateInputAgainst(SCHEMAS["flux-dev-lora"], lora ?? {})).toEqual([]);
  });
});
