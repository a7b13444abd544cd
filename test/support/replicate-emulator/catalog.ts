/**
 * The models the emulator knows, with Cog-style OpenAPI input schemas (enums as components behind
 * `allOf: [{$ref}]`, as Cog generates them). Inputs follow replicate.md: flux-dev-lora 4.1,
 * trained versions 4.3, FLUX.2 4.5, ostris trainer 3.1.
 */

import { fixtureModels } from "./fixture-models.js";

export type Schema = Record<string, unknown>;

export interface OutputSpec {
  /** "array": a list of URIs; "single": one URI string. */
  shape: "array" | "single";
  /** Which input holds the count (flux-dev-lora: num_outputs). */
  countField?: string;
  formatField: string;
  defaultFormat: "webp" | "jpg" | "png";
  /** The cog-flux or fine-tuner error when every image is flagged (replicate.md 2.4). */
  nsfwError: string;
}

export interface VersionRecord {
  id: string;
  created_at: number;
  cog_version: string;
  openapi_schema: Schema;
}

export interface ModelRecord {
  owner: string;
  name: string;
  description: string | null;
  visibility: "public" | "private";
  is_official: boolean;
  hardware: string;
  versions: VersionRecord[];
  /** Present for runnable image models. */
  output?: OutputSpec;
  /** The trainer takes trainings, not predictions. */
  trainable?: boolean;
  run_count: number;
  created_at: number;
}

type Prop = Record<string, unknown>;

function cogSchema(required: string[], properties: Record<string, Prop>, enums: Record<string, unknown[]>, output: Schema): Schema {
  const components: Record<string, Schema> = {
    Input: { type: "object", title: "Input", required, properties },
    Output: output,
  };
  for (const [name, values] of Object.entries(enums)) {
    components[name] = { enum: values, type: typeof values[0] === "number" ? "integer" : "string", title: name, description: "An enumeration." };
  }
  return { openapi: "3.0.2", info: { title: "Cog", version: "0.1.0" }, paths: {}, components: { schemas: components } };
}

let order = 0;
function p(type: string, extra: Prop = {}): Prop {
  return { type, title: "", "x-order": order++, ...extra };
}
function e(name: string, def: unknown, extra: Prop = {}): Prop {
  return { allOf: [{ $ref: `#/components/schemas/${name}` }], default: def, "x-order": order++, ...extra };
}

const ASPECT = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"];
const URI_ARRAY: Schema = { type: "array", items: { type: "string", format: "uri" }, title: "Output" };
const URI: Schema = { type: "string", format: "uri", title: "Output" };
const FLUX_NSFW = "All generated images contained NSFW content. Try running it again with a different prompt.";
const TRAINED_NSFW = "NSFW content detected. Try running it again, or try a different prompt.";

export function fluxDevLoraSchema(): Schema {
  order = 0;
  return cogSchema(
    ["prompt"],
    {
      prompt: p("string", { description: "Prompt for generated image" }),
      aspect_ratio: e("aspect_ratio", "1:1"),
      image: p("string", { format: "uri" }),
      prompt_strength: p("number", { default: 0.8, minimum: 0, maximum: 1 }),
      num_outputs: p("integer", { default: 1, minimum: 1, maximum: 4 }),
      num_inference_steps: p("integer", { default: 28, minimum: 1, maximum: 50 }),
      guidance: p("number", { default: 3, minimum: 0, maximum: 10 }),
      seed: p("integer"),
      output_format: e("output_format", "webp"),
      output_quality: p("integer", { default: 80, minimum: 0, maximum: 100 }),
      disable_safety_checker: p("boolean", { default: false }),
      go_fast: p("boolean", { default: true }),
      megapixels: e("megapixels", "1"),
      lora_weights: p("string"),
      lora_scale: p("number", { default: 1, minimum: -1, maximum: 3 }),
      extra_lora: p("string"),
      extra_lora_scale: p("number", { default: 1, minimum: -1, maximum: 3 }),
      hf_api_token: p("string", { format: "password", "x-cog-secret": true }),
      civitai_api_token: p("string", { format: "password", "x-cog-secret": true }),
    },
    { aspect_ratio: ASPECT, output_format: ["webp", "jpg", "png"], megapixels: ["1", "0.25"] },
    URI_ARRAY,
  );
}

/** What a trained destination version accepts (flux-fine-tuner predict.py: replicate.md 4.3). */
export function trainedVersionSchema(): Schema {
  order = 0;
  return cogSchema(
    ["prompt"],
    {
      prompt: p("string"),
      image: p("string", { format: "uri" }),
      mask: p("string", { format: "uri" }),
      aspect_ratio: e("aspect_ratio", "1:1"),
      height: p("integer", { minimum: 256, maximum: 1440 }),
      width: p("integer", { minimum: 256, maximum: 1440 }),
      prompt_strength: p("number", { default: 0.8, minimum: 0, maximum: 1 }),
      model: e("model", "dev"),
      num_outputs: p("integer", { default: 1, minimum: 1, maximum: 4 }),
      num_inference_steps: p("integer", { default: 28, minimum: 1, maximum: 50 }),
      guidance_scale: p("number", { default: 3, minimum: 0, maximum: 10 }),
      seed: p("integer"),
      output_format: e("output_format", "webp"),
      output_quality: p("integer", { default: 90, minimum: 0, maximum: 100 }),
      disable_safety_checker: p("boolean", { default: false }),
      go_fast: p("boolean", { default: false }),
      megapixels: e("megapixels", "1"),
      lora_scale: p("number", { default: 1, minimum: -1, maximum: 3 }),
      extra_lora: p("string"),
      extra_lora_scale: p("number", { default: 1, minimum: -1, maximum: 3 }),
      replicate_weights: p("string"),
    },
    { aspect_ratio: [...ASPECT, "custom"], model: ["dev", "schnell"], output_format: ["webp", "jpg", "png"], megapixels: ["1", "0.25"] },
    URI_ARRAY,
  );
}

function flux2DevSchema(): Schema {
  order = 0;
  return cogSchema(
    ["prompt"],
    {
      prompt: p("string"),
      input_images: p("array", { items: { type: "string", format: "uri" }, maxItems: 4 }),
      aspect_ratio: e("aspect_ratio", "1:1"),
      width: p("integer", { minimum: 256, maximum: 1440 }),
      height: p("integer", { minimum: 256, maximum: 1440 }),
      go_fast: p("boolean", { default: true }),
      seed: p("integer"),
      output_format: e("output_format", "webp"),
      output_quality: p("integer", { default: 80, minimum: 0, maximum: 100 }),
      disable_safety_checker: p("boolean", { default: false }),
    },
    { aspect_ratio: [...ASPECT, "match_input_image", "custom"], output_format: ["webp", "jpg", "png"] },
    URI,
  );
}

function flux2ProSchema(): Schema {
  order = 0;
  return cogSchema(
    ["prompt"],
    {
      prompt: p("string"),
      input_images: p("array", { items: { type: "string", format: "uri" }, maxItems: 8 }),
      resolution: e("resolution", "1 MP"),
      aspect_ratio: e("aspect_ratio", "1:1"),
      width: p("integer", { minimum: 256, maximum: 2048 }),
      height: p("integer", { minimum: 256, maximum: 2048 }),
      safety_tolerance: p("integer", { default: 2, minimum: 1, maximum: 5 }),
      seed: p("integer"),
      output_format: e("output_format", "webp"),
      output_quality: p("integer", { default: 80, minimum: 0, maximum: 100 }),
    },
    {
      resolution: ["match_input_image", "0.5 MP", "1 MP", "2 MP", "4 MP"],
      aspect_ratio: [...ASPECT, "match_input_image", "custom"],
      output_format: ["webp", "jpg", "png"],
    },
    URI,
  );
}

function flux2KleinSchema(): Schema {
  order = 0;
  return cogSchema(
    ["prompt"],
    {
      prompt: p("string"),
      images: p("array", { items: { type: "string", format: "uri" }, maxItems: 5 }),
      aspect_ratio: e("aspect_ratio", "1:1"),
      output_megapixels: e("output_megapixels", "1"),
      go_fast: p("boolean", { default: false }),
      seed: p("integer"),
      output_format: e("output_format", "jpg"),
      output_quality: p("integer", { default: 95, minimum: 0, maximum: 100 }),
      disable_safety_checker: p("boolean", { default: false }),
    },
    { aspect_ratio: [...ASPECT, "match_input_image"], output_megapixels: ["0.25", "0.5", "1", "2", "4"], output_format: ["webp", "jpg", "png"] },
    URI_ARRAY,
  );
}

/** ostris/flux-dev-lora-trainer train() inputs (replicate.md 3.1). */
export function trainerSchema(): Schema {
  order = 0;
  return cogSchema(
    [],
    {
      input_images: p("string", { format: "uri" }),
      trigger_word: p("string", { default: "TOK" }),
      autocaption: p("boolean", { default: true }),
      autocaption_prefix: p("string"),
      autocaption_suffix: p("string"),
      steps: p("integer", { default: 1000, minimum: 3, maximum: 6000 }),
      learning_rate: p("number", { default: 0.0004 }),
      batch_size: p("integer", { default: 1 }),
      resolution: p("string", { default: "512,768,1024" }),
      lora_rank: p("integer", { default: 16, minimum: 1, maximum: 128 }),
      caption_dropout_rate: p("number", { default: 0.05, minimum: 0, maximum: 1 }),
      optimizer: p("string", { default: "adamw8bit" }),
      cache_latents_to_disk: p("boolean", { default: false }),
      layers_to_optimize_regex: p("string"),
      gradient_checkpointing: p("boolean", { default: false }),
      hf_repo_id: p("string"),
      hf_token: p("string", { format: "password", "x-cog-secret": true }),
      wandb_api_key: p("string", { format: "password", "x-cog-secret": true }),
      wandb_project: p("string", { default: "flux_train_replicate" }),
      wandb_run: p("string"),
      wandb_entity: p("string"),
      wandb_sample_interval: p("integer", { default: 100 }),
      wandb_sample_prompts: p("string"),
      wandb_save_interval: p("integer", { default: 100 }),
      skip_training_and_use_pretrained_hf_lora_url: p("string"),
    },
    {},
    { type: "object", title: "TrainingOutput", required: ["weights"], properties: { weights: { type: "string", format: "uri" } } },
  );
}

/** A fixed trainer version id (64 hex), as `latest_version.id` of the trainer. */
export const TRAINER_VERSION = "b6af14222e6bd9be257cbc1ea4afda3cd0503e1133083b9d1de0364d8568e6ef";

export function seedCatalog(now: number): ModelRecord[] {
  const version = (id: string, schema: Schema): VersionRecord => ({ id, created_at: now - 86_400_000, cog_version: "0.14.0", openapi_schema: schema });
  const official = (name: string, schema: Schema, output: OutputSpec, id: string): ModelRecord => ({
    owner: "black-forest-labs",
    name,
    description: `${name} (emulated)`,
    visibility: "public",
    is_official: true,
    hardware: "gpu-h100",
    versions: [version(id, schema)],
    output,
    run_count: 1000,
    created_at: now - 86_400_000 * 30,
  });
  return [
    official("flux-dev-lora", fluxDevLoraSchema(), { shape: "array", countField: "num_outputs", formatField: "output_format", defaultFormat: "webp", nsfwError: FLUX_NSFW }, "a".repeat(64)),
    official("flux-2-dev", flux2DevSchema(), { shape: "single", formatField: "output_format", defaultFormat: "webp", nsfwError: FLUX_NSFW }, "7bba46bd".padEnd(64, "0")),
    official("flux-2-pro", flux2ProSchema(), { shape: "single", formatField: "output_format", defaultFormat: "webp", nsfwError: FLUX_NSFW }, "285631b5".padEnd(64, "0")),
    official("flux-2-klein-4b", flux2KleinSchema(), { shape: "array", formatField: "output_format", defaultFormat: "jpg", nsfwError: FLUX_NSFW }, "8e9c42d7".padEnd(64, "0")),
    ...fixtureModels(now),
    {
      owner: "ostris",
      name: "flux-dev-lora-trainer",
      description: "Fine-tune FLUX.1-dev using ai-toolkit (emulated)",
      visibility: "public",
      is_official: false,
      hardware: "gpu-h100",
      versions: [version(TRAINER_VERSION, trainerSchema())],
      trainable: true,
      run_count: 50_000,
      created_at: now - 86_400_000 * 300,
    },
  ];
}

export const TRAINED_OUTPUT: OutputSpec = { shape: "array", countField: "num_outputs", formatField: "output_format", defaultFormat: "webp", nsfwError: TRAINED_NSFW };

export const HARDWARE = [
  { name: "CPU", sku: "cpu" },
  { name: "Nvidia T4 GPU", sku: "gpu-t4" },
  { name: "Nvidia A40 GPU", sku: "gpu-a40-small" },
  { name: "Nvidia A40 (Large) GPU", sku: "gpu-a40-large" },
  { name: "Nvidia L40S GPU", sku: "gpu-l40s" },
  { name: "Nvidia A100 (80GB) GPU", sku: "gpu-a100-large" },
  { name: "Nvidia H100 GPU", sku: "gpu-h100" },
];
