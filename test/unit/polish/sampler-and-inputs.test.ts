/**
 * The face pass's sampler (preset polish section, then generation section, then gen's defaults) and
 * the image-to-image inputs each backend sends for one face: pure, table-driven.
 */
import { describe, expect, it } from "vitest";
import type { ImageToImageJob } from "../../../src/generation/generator.js";
import { imageToImageInputs, requireImageToImageInputs, supportsImageToImage } from "../../../src/generation/backends/replicate-image-to-image.js";
import { TestGenerator } from "../../../src/generation/backends/test.js";
import { DEFAULT_POLISH, polishSampler } from "../../../src/polish/plan.js";
import { DEFAULT_GENERATION } from "../../../src/presets/schema.js";

describe("polishSampler", () => {
  it.each([
    { name: "no preset: gen's documented defaults", preset: undefined, want: { steps: DEFAULT_GENERATION.steps, guidance: DEFAULT_GENERATION.guidance, loraScale: 1 } },
    { name: "the preset's generation section", preset: { generation: { steps: 40, guidance: 2.8, loraScale: 0.9 } }, want: { steps: 40, guidance: 2.8, loraScale: 0.9 } },
    { name: "the polish section wins over generation", preset: { generation: { steps: 40, guidance: 2.8 }, polish: { steps: 24, guidance: 3.5 } }, want: { steps: 24, guidance: 3.5, loraScale: 1 } },
    { name: "only some polish fields", preset: { generation: { guidance: 2.2 }, polish: { steps: 30 } }, want: { steps: 30, guidance: 2.2, loraScale: 1 } },
  ])("$name", ({ preset, want }) => {
    expect(polishSampler(preset)).toEqual(want);
  });

  it("DEFAULT_POLISH carries the same defaults", () => {
    expect(polishSampler(undefined)).toEqual({ steps: DEFAULT_POLISH.steps, guidance: DEFAULT_POLISH.guidance, loraScale: DEFAULT_POLISH.loraScale });
  });
});

const job: ImageToImageJob = {
  key: "a.jpg#0",
  image: "https://files/region",
  mask: "https://files/mask",
  strength: 0.4,
  prompt: "close-up photo of the face of ohwx woman",
  seed: 77,
  width: 1024,
  height: 1024,
  steps: 30,
  guidance: 2.5,
  lora: { scale: 0.9, weights: "https://example.com/lora.safetensors" },
  rawDir: "/tmp",
  rawName: "a",
};

describe("imageToImageInputs (Replicate)", () => {
  it("a trained version inpaints: image, mask, prompt_strength, guidance_scale; its LoRA is built in", () => {
    expect(imageToImageInputs("trained-version", job)).toEqual({
      prompt: job.prompt,
      image: "https://files/region",
      mask: "https://files/mask",
      prompt_strength: 0.4,
      seed: 77,
      num_inference_steps: 30,
      guidance_scale: 2.5,
      output_format: "png",
      lora_scale: 0.9,
    });
  });

  it("flux-dev-lora has no mask input: img2img with the LoRA's URL and `guidance`", () => {
    expect(imageToImageInputs("flux-dev-lora", job)).toEqual({
      prompt: job.prompt,
      image: "https://files/region",
      prompt_strength: 0.4,
      seed: 77,
      num_inference_steps: 30,
      guidance: 2.5,
      output_format: "png",
      lora_scale: 0.9,
      lora_weights: "https://example.com/lora.safetensors",
    });
  });

  it.each(["flux-2-dev", "flux-2-pro", "flux-2-klein-4b"] as const)("%s takes no image to repaint", (model) => {
    expect(supportsImageToImage(model)).toBe(false);
    expect(imageToImageInputs(model, job)).toBeUndefined();
    expect(() => requireImageToImageInputs(model, `black-forest-labs/${model}`, job)).toThrow(expect.objectContaining({ code: "E_POLISH_BACKEND" }));
  });

  it("without a mask a trained version gets none either (img2img)", () => {
    const { mask: _mask, ...noMask } = job;
    expect(imageToImageInputs("trained-version", noMask)).not.toHaveProperty("mask");
  });
});

describe("the test backend's image-to-image job", () => {
  it("is a labelled placeholder that names the job", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { default: sharp } = await import("sharp");
    const dir = await mkdtemp(join(tmpdir(), "headshot-i2i-"));
    try {
      const image = join(dir, "region.png");
      await sharp({ create: { width: 256, height: 256, channels: 3, background: { r: 120, g: 120, b: 120 } } }).png().toFile(image);
      const result = await new TestGenerator().imageToImage({ ...job, image, mask: undefined, width: 256, height: 256, rawDir: dir }, { signal: new AbortController().signal });
      expect(result).toMatchObject({ placeholder: true, costUsd: 0, costSource: "free", remote: { id: "test-a.jpg#0", modelRef: "test" } });
      const { data } = await sharp(result.rawPath).raw().toBuffer({ resolveWithObject: true });
      // Warmed: red up, blue down, compared with the flat grey it was given.
      expect(data[0]).toBeGreaterThan(120);
      expect(data[2]).toBeLessThan(120);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
