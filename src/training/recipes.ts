/**
 * Training recipes: one per base model, as data. A recipe holds everything model-specific that
 * goes into an ai-toolkit job (from ostris/ai-toolkit at commit 27a03a91):
 * - FLUX.1 dev / schnell follow the upstream examples `train_lora_flux_24gb.yaml` and
 *   `train_lora_flux_schnell_24gb.yaml` (ostris/ai-toolkit config/examples/train_lora_flux_24gb.yaml); schnell needs the training adapter.
 * - FLUX.2 dev / klein have no upstream example: `arch`, `name_or_path`, `low_vram`, both
 *   quantizations and `timestep_type: weighted` come from the UI defaults (ostris/ai-toolkit ui/src/app/jobs/new/options.tsx).
 * - Face defaults (rank, lr 1e-4 set explicitly because the code default is 1e-6, steps) are
 *   the usual face-LoRA settings reported in ostris/ai-toolkit issues and Replicate's trainer
 *   (replicate/flux-fine-tuner train.py: rank 16, lr 4e-4, 1000 steps).
 */

export type RecipeId = "flux1-dev" | "flux1-schnell" | "flux2-dev" | "flux2-klein-4b" | "flux2-klein-9b";

export interface Recipe {
  id: RecipeId;
  label: string;
  /** How the model is selected in `process[0].model` (FLUX.1: is_flux; FLUX.2: arch, ostris/ai-toolkit ui/src/app/jobs/new/options.tsx). */
  model: { name_or_path: string; is_flux?: true; arch?: string; assistant_lora_path?: string };
  /** Hugging Face repos that need an accepted licence and HF_TOKEN (ostris/ai-toolkit#36). */
  gated: boolean;
  /** Where the user accepts the licence. */
  licenceUrl: string;
  defaults: { rank: number; steps: number; lr: number };
  /** Sampling defaults: guidance and steps (schnell: 1 / 4, ostris/ai-toolkit config/examples/train_lora_flux_24gb.yaml). */
  sample: { guidance_scale: number; sample_steps: number };
  /** FLUX.2 trains with weighted timesteps (ostris/ai-toolkit ui/src/app/jobs/new/options.tsx); FLUX.1 keeps the code default. */
  timestepType?: "weighted";
  /** FLUX.2 UI default: `model_kwargs: {match_target_res: false}` (ostris/ai-toolkit ui/src/app/jobs/new/options.tsx). */
  modelKwargs?: Record<string, unknown>;
  /** Always keep the transformer on CPU while quantizing (FLUX.2 UI default, ostris/ai-toolkit ui/src/app/jobs/new/options.tsx). */
  alwaysLowVram: boolean;
  /** Below this much total GPU memory, training is unlikely to fit at all (hardware reports in ostris/ai-toolkit issues). */
  minVramMiB: number;
  /**
   * Free GPU memory the model load itself needs at its peak, whatever the quantization: below it
   * training cannot start, so the plan is refused with the alternative.
   */
  loadPeak?: { mib: number; why: string };
  /** Quantize (qfloat8, transformer and text encoder) below this much total memory (hardware reports in ostris/ai-toolkit issues: Replicate's trainer quantizes under 100 GB). */
  quantizeBelowMiB: number;
  /** Bucket side divisibility (ostris/ai-toolkit toolkit/buckets.py, toolkit/data_loader.py): FLUX.1 32, FLUX.2 16. */
  bucketDivisibility: number;
}

const GIB = 1024;

/**
 * ai-toolkit loads FLUX.2-dev's text encoder (mistralai/Mistral-Small-3.1-24B-Instruct-2503,
 * 24B parameters) with `from_pretrained(torch_dtype=bf16)` and moves it to the GPU *before* it
 * quantizes it (ostris/ai-toolkit extensions_built_in/diffusion_models/flux2/flux2_model.py,
 * `Flux2Model.load_te`: `text_encoder.to(self.device_torch, dtype=dtype)`, then `quantize(...)`).
 * With low_vram the transformer is on the CPU by then, so the peak is the encoder in bf16
 * (24e9 x 2 bytes) plus about 1.5 GiB of CUDA context and allocator slack.
 */
const MISTRAL_24B_BF16_MIB = Math.ceil((24e9 * 2) / 1024 / 1024);
const MISTRAL_WHY = "ai-toolkit moves FLUX.2-dev's 24B Mistral text encoder to the GPU in bf16 before quantizing it";

/**
 * What every FLUX.2 recipe shares: the UI defaults (ostris/ai-toolkit ui/src/app/jobs/new/options.tsx: rank 32, weighted
 * timesteps, match_target_res off, low_vram always on), quantized below 100 GB like FLUX.1.
 */
const FLUX2_COMMON = {
  defaults: { rank: 32, steps: 1500, lr: 1e-4 },
  sample: { guidance_scale: 4, sample_steps: 20 },
  timestepType: "weighted",
  modelKwargs: { match_target_res: false },
  alwaysLowVram: true,
  quantizeBelowMiB: 100 * GIB,
  // FLUX.2 buckets snap to multiples of 16 (ostris/ai-toolkit toolkit/buckets.py, toolkit/data_loader.py), FLUX.1 to 32.
  bucketDivisibility: 16,
} as const;

export const RECIPES: Readonly<Record<RecipeId, Recipe>> = {
  "flux1-dev": {
    id: "flux1-dev",
    label: "FLUX.1 dev",
    model: { name_or_path: "black-forest-labs/FLUX.1-dev", is_flux: true },
    gated: true,
    licenceUrl: "https://huggingface.co/black-forest-labs/FLUX.1-dev",
    defaults: { rank: 16, steps: 1500, lr: 1e-4 },
    sample: { guidance_scale: 4, sample_steps: 20 },
    alwaysLowVram: false,
    minVramMiB: 24 * GIB - 512,
    quantizeBelowMiB: 100 * GIB,
    bucketDivisibility: 32,
  },
  "flux1-schnell": {
    id: "flux1-schnell",
    label: "FLUX.1 schnell",
    model: {
      name_or_path: "black-forest-labs/FLUX.1-schnell",
      is_flux: true,
      // Required for schnell training (train_lora_flux_schnell_24gb.yaml).
      assistant_lora_path: "ostris/FLUX.1-schnell-training-adapter",
    },
    gated: false,
    licenceUrl: "https://huggingface.co/black-forest-labs/FLUX.1-schnell",
    defaults: { rank: 16, steps: 1500, lr: 1e-4 },
    sample: { guidance_scale: 1, sample_steps: 4 },
    alwaysLowVram: false,
    minVramMiB: 24 * GIB - 512,
    quantizeBelowMiB: 100 * GIB,
    bucketDivisibility: 32,
  },
  "flux2-dev": {
    id: "flux2-dev",
    label: "FLUX.2 dev",
    model: { name_or_path: "black-forest-labs/FLUX.2-dev", arch: "flux2" },
    gated: true,
    licenceUrl: "https://huggingface.co/black-forest-labs/FLUX.2-dev",
    ...FLUX2_COMMON,
    // ~32B transformer plus a 24B text encoder: 32 GB cards have been reported to OOM (ostris/ai-toolkit#872).
    minVramMiB: 48 * GIB - 512,
    loadPeak: { mib: MISTRAL_24B_BF16_MIB + 1536, why: MISTRAL_WHY },
  },
  "flux2-klein-4b": {
    id: "flux2-klein-4b",
    label: "FLUX.2 klein 4B",
    model: { name_or_path: "black-forest-labs/FLUX.2-klein-base-4B", arch: "flux2_klein_4b" },
    gated: false,
    licenceUrl: "https://huggingface.co/black-forest-labs/FLUX.2-klein-base-4B",
    ...FLUX2_COMMON,
    minVramMiB: 16 * GIB - 512,
  },
  "flux2-klein-9b": {
    id: "flux2-klein-9b",
    label: "FLUX.2 klein 9B",
    model: { name_or_path: "black-forest-labs/FLUX.2-klein-base-9B", arch: "flux2_klein_9b" },
    gated: true,
    licenceUrl: "https://huggingface.co/black-forest-labs/FLUX.2-klein-base-9B",
    ...FLUX2_COMMON,
    minVramMiB: 24 * GIB - 512,
  },
};

export const RECIPE_IDS = Object.keys(RECIPES) as RecipeId[];
export const DEFAULT_RECIPE: RecipeId = "flux1-dev";

/** Alternative spellings users type for `--model`. */
const ALIASES: Record<string, RecipeId> = {
  dev: "flux1-dev",
  "flux-dev": "flux1-dev",
  "flux.1-dev": "flux1-dev",
  schnell: "flux1-schnell",
  "flux-schnell": "flux1-schnell",
  "flux.1-schnell": "flux1-schnell",
  flux2: "flux2-dev",
  "flux.2-dev": "flux2-dev",
  "klein-4b": "flux2-klein-4b",
  "klein-9b": "flux2-klein-9b",
};

export function findRecipe(id: string): Recipe | undefined {
  const key = id.trim().toLowerCase();
  const resolved = (RECIPE_IDS as string[]).includes(key) ? (key as RecipeId) : ALIASES[key];
  return resolved ? RECIPES[resolved] : undefined;
}

/**
 * Headshot sample prompts used while training, so the user can watch the identity appear.
 * `[trigger]` is replaced by ai-toolkit with the trigger word (ostris/ai-toolkit toolkit/dataloader_mixins.py, toolkit/prompt_utils.py); `{class}` by us.
 * Callers may pass prompts built from a preset instead.
 */
export const DEFAULT_SAMPLE_PROMPTS: readonly string[] = [
  "professional corporate headshot of [trigger] {class}, navy blazer, soft studio lighting, neutral grey backdrop, 85mm lens",
  "close-up portrait photo of [trigger] {class}, natural window light, shallow depth of field, friendly smile",
  "linkedin profile photo of [trigger] {class}, business casual, modern office background, bokeh",
  "outdoor portrait of [trigger] {class}, golden hour, city street, looking at the camera",
];
