import { describe, expect, it } from "vitest";
import { assertValidInput, inputKeyFor, validateInputAgainst, type OpenApiDocument } from "../../../src/replicate/index.js";
import { validateInput as emulatorValidate } from "../../support/replicate-emulator/validate.js";
import { fluxDevLoraSchema, trainedVersionSchema, trainerSchema } from "../../support/replicate-emulator/catalog.js";

const dev = fluxDevLoraSchema() as OpenApiDocument;

describe("local input validation (src) agrees with the emulator's ajv validation", () => {
  it.each<[string, Record<string, unknown>]>([
    ["valid minimal", { prompt: "x" }],
    ["valid full", { prompt: "x", aspect_ratio: "4:5", num_outputs: 4, guidance: 3.5, seed: 1, output_format: "jpg", lora_weights: "a/b", lora_scale: 1.2, go_fast: false }],
    ["missing prompt", { seed: 1 }],
    ["bad enum", { prompt: "x", aspect_ratio: "5:7" }],
    ["wrong type", { prompt: "x", seed: "1" }],
    ["float for integer", { prompt: "x", num_outputs: 1.5 }],
    ["above maximum", { prompt: "x", num_outputs: 5 }],
    ["below minimum", { prompt: "x", lora_scale: -2 }],
    ["null", { prompt: null }],
  ])("%s", (_label, input) => {
    const ours = validateInputAgainst(dev, input).map((f) => `${f.type} ${f.field}`).sort();
    const theirs = emulatorValidate(dev, input).map((f) => `${f.type} ${f.field}`).sort();
    expect(ours).toEqual(theirs);
  });

  it("arrays: maxItems and item types (FLUX.2 reference images)", () => {
    const schema = { components: { schemas: { Input: { type: "object", properties: { images: { type: "array", maxItems: 2, items: { type: "string" } } } } } } } as OpenApiDocument;
    expect(validateInputAgainst(schema, { images: ["a", "b", "c"] }).map((f) => f.type)).toEqual(["array_max_items"]);
    expect(validateInputAgainst(schema, { images: ["a", 3] }).map((f) => f.field)).toEqual(["input.images.1"]);
  });

  it("unknown keys are errors locally (the emulator, like Cog, ignores them) with a suggestion", () => {
    expect(emulatorValidate(dev, { prompt: "x", guidance_scale: 3 })).toEqual([]);
    expect(() => assertValidInput(dev, { prompt: "x", guidance_scale: 3 }, "black-forest-labs/flux-dev-lora")).toThrow(
      expect.objectContaining({ code: "E_REPLICATE_INPUT_INVALID", details: ['input.guidance_scale: Additional property guidance_scale is not allowed (did you mean "guidance"?)'] }),
    );
    const trained = trainedVersionSchema() as OpenApiDocument;
    expect(() => assertValidInput(trained, { prompt: "x", guidance: 3 }, "me/face:abc")).toThrow(expect.objectContaining({ details: [expect.stringContaining('did you mean "guidance_scale"?')] }));
  });

  it("trainer inputs are TrainingInput: steps range 3..6000 (flux-fine-tuner train.py)", () => {
    const trainer = trainerSchema() as OpenApiDocument;
    expect(inputKeyFor(trainer, "train")).toBe("TrainingInput");
    expect(inputKeyFor(trainer, "predict")).toBe("Input");
    expect(validateInputAgainst(trainer, { input_images: "https://x/y.zip", steps: 2 }, "TrainingInput").map((f) => f.type)).toEqual(["number_gte"]);
    expect(validateInputAgainst(trainer, { input_images: "https://x/y.zip", steps: 6001 }, "TrainingInput").map((f) => f.type)).toEqual(["number_lte"]);
    expect(validateInputAgainst(trainer, { input_images: "https://x/y.zip", steps: 1000, lora_rank: 16 }, "TrainingInput")).toEqual([]);
    expect(emulatorValidate(trainer, { input_images: "https://x/y.zip", steps: 2 }, "train").map((f) => f.type)).toEqual(["number_gte"]);
  });

  it("the trainer's Input is its prediction schema: training inputs there fail (the bug this guards against)", () => {
    const trainer = trainerSchema() as OpenApiDocument;
    const input = { input_images: "https://x/y.zip", steps: 1000, resolution: "512,768,1024" };
    const problems = validateInputAgainst(trainer, input).map((f) => `${f.type} ${f.field}`);
    expect(problems).toContain("required input.prompt");
    expect(problems).toContain("additional_property_not_allowed input.resolution");
    expect(emulatorValidate(trainer, input).map((f) => `${f.type} ${f.field}`)).toContain("required input.prompt");
  });

  it("a version without TrainingInput falls back to Input for trainings (cog's legacy schemas)", () => {
    const legacy = { components: { schemas: { Input: { type: "object", properties: { steps: { type: "integer" } } } } } } as OpenApiDocument;
    expect(inputKeyFor(legacy, "train")).toBe("Input");
    expect(emulatorValidate(legacy, { steps: "x" }, "train").map((f) => f.type)).toEqual(["invalid_type"]);
  });
});
