/**
 * Pure mapping from a composed shot to each model's inputs. Field names differ per model
 * (replicate/cog-flux predict.py DevLoraPredictor flux-dev-lora uses `guidance`, 4.3 trained versions use
 * `guidance_scale`, 4.5 FLUX.2 klein takes `images` where dev/pro take `input_images`).
 */
import type { ComposedPrompt } from "../presets/compose.js";

export type GenModel = "trained-version" | "flux-dev-lora" | "flux-2-dev" | "flux-2-pro" | "flux-2-klein-4b" | "local" | "test";

export const REPLICATE_MODEL_REFS: Record<Exclude<GenModel, "trained-version" | "local" | "test">, string> = {
  "flux-dev-lora": "black-forest-labs/flux-dev-lora",
  "flux-2-dev": "black-forest-labs/flux-2-dev",
  "flux-2-pro": "black-forest-labs/flux-2-pro",
  "flux-2-klein-4b": "black-forest-labs/flux-2-klein-4b",
};

/** Most reference images each FLUX.2 model accepts (https://replicate.com/black-forest-labs/flux-2-dev/api). */
export const MAX_REFERENCE_IMAGES: Record<"flux-2-dev" | "flux-2-pro" | "flux-2-klein-4b", number> = {
  "flux-2-dev": 4,
  "flux-2-pro": 8,
  "flux-2-klein-4b": 5,
};

export interface InputContext {
  seed: number;
  /** Replicate model `owner/name`, HF repo or .safetensors URL (flux-dev-lora). */
  loraWeights?: string;
  /** Uploaded reference image URLs (FLUX.2 reference mode). */
  referenceUrls?: string[];
}

export function modelInputs(model: GenModel, shot: ComposedPrompt, ctx: InputContext): Record<string, unknown> {
  const s = shot.sampler;
  switch (model) {
    case "trained-version":
      return {
        prompt: shot.prompt,
        model: "dev",
        aspect_ratio: s.aspectRatio,
        num_outputs: 1,
        num_inference_steps: s.steps,
        guidance_scale: s.guidance,
        lora_scale: s.loraScale,
        seed: ctx.seed,
        output_format: s.outputFormat,
        output_quality: s.outputQuality,
      };
    case "flux-dev-lora":
      return {
        prompt: shot.prompt,
        aspect_ratio: s.aspectRatio,
        num_outputs: 1,
        num_inference_steps: s.steps,
        guidance: s.guidance,
        lora_weights: ctx.loraWeights ?? "[identity LoRA]",
        lora_scale: s.loraScale,
        seed: ctx.seed,
        output_format: s.outputFormat,
        output_quality: s.outputQuality,
        // go_fast is fp8 and not deterministic even with a seed (replicate/cog-flux predict.py DevLoraPredictor): off, so seeds reproduce.
        go_fast: false,
      };
    case "flux-2-dev":
      return {
        prompt: JSON.stringify(shot.promptJson),
        input_images: ctx.referenceUrls ?? ["[reference images]"],
        aspect_ratio: s.aspectRatio,
        seed: ctx.seed,
        output_format: s.outputFormat,
        output_quality: s.outputQuality,
        go_fast: false,
      };
    case "flux-2-pro":
      return {
        prompt: JSON.stringify(shot.promptJson),
        input_images: ctx.referenceUrls ?? ["[reference images]"],
        aspect_ratio: s.aspectRatio,
        resolution: "1 MP",
        seed: ctx.seed,
        output_format: s.outputFormat,
        output_quality: s.outputQuality,
      };
    case "flux-2-klein-4b":
      return {
        prompt: JSON.stringify(shot.promptJson),
        images: ctx.referenceUrls ?? ["[reference images]"],
        aspect_ratio: s.aspectRatio,
        output_megapixels: "1",
        seed: ctx.seed,
        output_format: s.outputFormat,
        output_quality: s.outputQuality,
      };
    case "local":
    case "test":
      return {
        prompt: shot.prompt,
        width: s.width,
        height: s.height,
        steps: s.steps,
        guidance: s.guidance,
        seed: ctx.seed,
        lora_scale: s.loraScale,
      };
  }
}
