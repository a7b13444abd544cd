/**
 * Image-to-image inputs for the Replicate models that take the identity's LoRA, in each model's own
 * names (the recorded schemas in test/fixtures/replicate/models/ are what the contract tests check):
 *
 * - a trained destination version (`owner/name:<hex>`): `image`, `mask` (white = repaint) and
 *   `prompt_strength`; both image and mask switch it to inpainting, the LoRA is built in
 *   (github.com/replicate/flux-fine-tuner predict.py; cog-flux's hotswap predictor takes the same);
 * - `black-forest-labs/flux-dev-lora`: `image` + `prompt_strength` (img2img, no mask input; the
 *   caller's feathered blend does the masking) and the LoRA as `lora_weights`
 *   (github.com/replicate/cog-flux predict.py).
 *
 * The other official models (FLUX.2) take reference images, not an image to repaint: no job here.
 */
import { UsageError } from "../../errors.js";
import type { ImageToImageJob } from "../generator.js";
import type { GenModel } from "../model-inputs.js";

interface ImageToImageNames {
  /** The model's mask input, when it has one. */
  mask?: string;
  guidance: string;
  /** Where the LoRA's URL goes, when the model loads it per request. */
  loraWeights?: string;
}

export const IMAGE_TO_IMAGE_MODELS: Partial<Record<GenModel, ImageToImageNames>> = {
  "trained-version": { mask: "mask", guidance: "guidance_scale" },
  "flux-dev-lora": { guidance: "guidance", loraWeights: "lora_weights" },
};

export function supportsImageToImage(model: GenModel): boolean {
  return IMAGE_TO_IMAGE_MODELS[model] !== undefined;
}

/** The exact `input` of the prediction; undefined when the model takes no image to repaint. */
export function imageToImageInputs(model: GenModel, job: ImageToImageJob): Record<string, unknown> | undefined {
  const names = IMAGE_TO_IMAGE_MODELS[model];
  if (!names) return undefined;
  return {
    prompt: job.prompt,
    image: job.image,
    ...(names.mask && job.mask !== undefined ? { [names.mask]: job.mask } : {}),
    prompt_strength: job.strength,
    seed: job.seed,
    num_inference_steps: job.steps,
    [names.guidance]: job.guidance,
    // Lossless: the answer is blended back into a PNG pixel for pixel.
    output_format: "png",
    ...(job.lora?.scale !== undefined ? { lora_scale: job.lora.scale } : {}),
    ...(names.loraWeights && job.lora?.weights ? { [names.loraWeights]: job.lora.weights } : {}),
  };
}

/** The inputs, or a usage error naming the models that take an image to repaint. */
export function requireImageToImageInputs(model: GenModel, modelRef: string, job: ImageToImageJob): Record<string, unknown> {
  const inputs = imageToImageInputs(model, job);
  if (inputs) return inputs;
  throw new UsageError(`${modelRef} takes no image to repaint`, {
    code: "E_POLISH_BACKEND",
    hint: "the face pass runs on a trained version or black-forest-labs/flux-dev-lora with the identity's LoRA",
  });
}
