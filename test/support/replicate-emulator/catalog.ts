/**
 * The models the emulator knows: one per recorded real schema in test/fixtures/replicate/models/
 * (see recorded-schemas.ts), served verbatim. Nothing here writes a schema by hand.
 */
import { componentsOf, recordedModel, recordedModels, trainedVersionOf, type Schema } from "./recorded-schemas.js";

export type { Schema };

export interface OutputSpec {
  /** "array": a list of URIs; "single": one URI string. */
  shape: "array" | "single";
  /** Which input holds the count (flux-dev-lora: num_outputs). */
  countField?: string;
  formatField: string;
  defaultFormat: "webp" | "jpg" | "png";
  /** The cog-flux or fine-tuner error when every image is flagged (https://replicate.com/docs/reference/http#predictions.get). */
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

const FLUX_NSFW = "All generated images contained NSFW content. Try running it again with a different prompt.";
const TRAINED_NSFW = "NSFW content detected. Try running it again, or try a different prompt.";

const TRAINER = "ostris/flux-dev-lora-trainer";

export function fluxDevLoraSchema(): Schema {
  return recordedModel("black-forest-labs/flux-dev-lora").openapi_schema;
}

/** The trainer's full document: prediction `Input`/`Output` and training `TrainingInput`/`TrainingOutput`. */
export function trainerSchema(): Schema {
  return recordedModel(TRAINER).openapi_schema;
}

/** What a destination version trained by ostris/flux-dev-lora-trainer accepts (flux-fine-tuner predict.py). */
export function trainedVersionSchema(): Schema {
  return trainedVersionOf(trainerSchema());
}

/** The recorded trainer version id (64 hex), as `latest_version.id` of the trainer. */
export const TRAINER_VERSION = recordedModel(TRAINER).version;

/** How a recorded model's predictions come out, read from its schema (`Output` array or string). */
function outputSpecOf(model: string, openapi: Schema): OutputSpec {
  const schemas = componentsOf(openapi);
  const input = (schemas.Input?.properties ?? {}) as Record<string, { default?: unknown }>;
  const format = input.output_format?.default;
  return {
    shape: schemas.Output?.type === "array" ? "array" : "single",
    ...(input.num_outputs ? { countField: "num_outputs" } : {}),
    formatField: "output_format",
    defaultFormat: format === "jpg" || format === "png" ? format : "webp",
    nsfwError: model.startsWith("black-forest-labs/") ? FLUX_NSFW : TRAINED_NSFW,
  };
}

export function seedCatalog(now: number): ModelRecord[] {
  return recordedModels().map((r): ModelRecord => {
    const [owner = "", name = ""] = r.model.split("/");
    const trainable = "TrainingInput" in componentsOf(r.openapi_schema);
    const official = owner === "black-forest-labs";
    return {
      owner,
      name,
      description: `${r.model} (emulated, schema recorded ${r.read_at})`,
      visibility: "public",
      is_official: official,
      hardware: "gpu-h100",
      versions: [{ id: r.version, created_at: now - 86_400_000, cog_version: "0.9.0", openapi_schema: r.openapi_schema }],
      ...(trainable ? { trainable: true } : { output: outputSpecOf(r.model, r.openapi_schema) }),
      run_count: official ? 1000 : 50_000,
      created_at: now - 86_400_000 * (official ? 30 : 300),
    };
  });
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
