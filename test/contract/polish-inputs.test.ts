/**
 * Contract test for polish's paid requests: the face pass's image-to-image inputs (built by the real
 * backend code, src/generation/backends/replicate-image-to-image.ts, over every built-in preset's
 * sampler and the ends of the polish settings' ranges) and the Real-ESRGAN upscale inputs, checked
 * against each model's recorded schema (test/fixtures/replicate/models/) by headshot's own strict
 * validator and the emulator's ajv.
 */
import { describe, expect, it } from "vitest";
import type { ImageToImageJob } from "../../src/generation/generator.js";
import { imageToImageInputs } from "../../src/generation/backends/replicate-image-to-image.js";
import type { GenModel } from "../../src/generation/model-inputs.js";
import { listPresets, loadPreset } from "../../src/presets/load.js";
import { polishSampler } from "../../src/polish/plan.js";
import { validateInputAgainst, type OpenApiDocument } from "../../src/replicate/index.js";
import { trainedVersionSchema } from "../support/replicate-emulator/catalog.js";
import { recordedModel } from "../support/replicate-emulator/recorded-schemas.js";
import { validateInput as emulatorValidate } from "../support/replicate-emulator/validate.js";

const FACE_MODELS: Array<{ label: string; model: GenModel; schema: OpenApiDocument; mask: boolean }> = [
  { label: "trained version (flux-fine-tuner)", model: "trained-version", schema: trainedVersionSchema() as OpenApiDocument, mask: true },
  { label: "trained version (cog-flux hotswap)", model: "trained-version", schema: recordedModel("el8245/me").openapi_schema as OpenApiDocument, mask: true },
  { label: "flux-dev-lora", model: "flux-dev-lora", schema: recordedModel("black-forest-labs/flux-dev-lora").openapi_schema as OpenApiDocument, mask: false },
];
const ESRGAN = recordedModel("nightmareai/real-esrgan").openapi_schema as OpenApiDocument;

function problems(schema: OpenApiDocument, input: Record<string, unknown>) {
  return {
    ours: validateInputAgainst(schema, input).map((p) => `${p.field}: ${p.description}`),
    emulator: emulatorValidate(schema, input).map((p) => `${p.field}: ${p.description}`),
  };
}

function faceJob(sampler: { steps: number; guidance: number; loraScale: number }, strength: number, seed: number): ImageToImageJob {
  return {
    key: "jane-01.jpg#0",
    image: "https://api.replicate.com/v1/files/region",
    mask: "https://api.replicate.com/v1/files/mask",
    strength,
    prompt: "close-up photo of the face of ohwx woman",
    seed,
    width: 1024,
    height: 1024,
    steps: sampler.steps,
    guidance: sampler.guidance,
    lora: { scale: sampler.loraScale, weights: "https://huggingface.co/jane-doe/headshot-jane/resolve/main/lora.safetensors" },
    rawDir: "/tmp",
    rawName: "face",
  };
}

const presets = (await listPresets([])).map((p) => p.name);

describe("the face pass's inputs fit each model's recorded schema", () => {
  it.each(FACE_MODELS.map((m) => [m.label, m] as const))("%s, every built-in preset's sampler, strength 0.05..0.9", async (_label, m) => {
    let checked = 0;
    for (const name of presets) {
      const preset = await loadPreset(name, { cwd: process.cwd(), userDirs: [] });
      for (const strength of [0.05, 0.35, 0.9]) {
        for (const seed of [0, 2_147_483_646]) {
          const input = imageToImageInputs(m.model, faceJob(polishSampler(preset.data), strength, seed))!;
          expect({ name, ...problems(m.schema, input) }).toEqual({ name, ours: [], emulator: [] });
          expect(input.prompt_strength).toBe(strength);
          expect("mask" in input).toBe(m.mask);
          expect("lora_weights" in input).toBe(m.model === "flux-dev-lora");
          checked++;
        }
      }
    }
    expect(checked).toBe(presets.length * 6);
  });

  it("the ends of the polish section's steps and guidance fit too", () => {
    for (const m of FACE_MODELS) {
      for (const [steps, guidance] of [[1, 0], [50, 10]] as const) {
        const input = imageToImageInputs(m.model, faceJob({ steps, guidance, loraScale: 1 }, 0.35, 1))!;
        expect(problems(m.schema, input)).toEqual({ ours: [], emulator: [] });
      }
    }
  });

  it("a model without an image to repaint (FLUX.2) gets no face-pass inputs", () => {
    expect(imageToImageInputs("flux-2-dev", faceJob({ steps: 28, guidance: 3, loraScale: 1 }, 0.35, 1))).toBeUndefined();
  });
});

describe("Real-ESRGAN (nightmareai/real-esrgan, schema derived from its cog predict.py)", () => {
  it("takes what polish sends at every preset upscale factor, and refuses what cog's ge/le refuse", () => {
    for (const scale of [1, 2, 3, 4]) {
      expect(problems(ESRGAN, { image: "https://api.replicate.com/v1/files/final", scale, face_enhance: false })).toEqual({ ours: [], emulator: [] });
    }
    expect(validateInputAgainst(ESRGAN, { image: "https://x/y.png", scale: 11, face_enhance: false }).map((p) => p.field)).toEqual(["input.scale"]);
    expect(validateInputAgainst(ESRGAN, { scale: 2 }).map((p) => p.field)).toEqual(["input.image"]);
  });
});
