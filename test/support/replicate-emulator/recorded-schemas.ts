/**
 * The recorded OpenAPI schemas of the real model versions headshot calls, read from
 * test/fixtures/replicate/models/<owner>__<name>.json (every *.json there, so other models can be
 * added as data). The emulator serves `openapi_schema` verbatim: cog-shaped `Input`/`Output`, and
 * for trainers `TrainingInput`/`TrainingOutput` (replicate/cog pkg/schema/openapi_spec.go).
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export type Schema = Record<string, unknown>;

export interface RecordedModel {
  /** "owner/name" */
  model: string;
  version: string;
  read_at: string;
  source: string[];
  notes: string;
  openapi_schema: Schema;
  /** The file it came from (relative to the models folder). */
  file: string;
}

export const RECORDED_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "fixtures", "replicate", "models");

let cache: RecordedModel[] | undefined;

/** Every recorded model version, sorted by file name. Each caller gets fresh copies of the schemas. */
export function recordedModels(): RecordedModel[] {
  cache ??= readdirSync(RECORDED_DIR)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => {
      const record = JSON.parse(readFileSync(join(RECORDED_DIR, file), "utf8")) as RecordedModel;
      const expected = `${record.model.replace("/", "__")}.json`;
      if (file !== expected) throw new Error(`${file}: a recorded schema of ${record.model} must be named ${expected}`);
      if (!/^[0-9a-f]{64}$/.test(record.version)) throw new Error(`${file}: version must be a 64-hex version id`);
      return { ...record, file };
    });
  return cache.map((r) => structuredClone(r));
}

export function recordedModel(model: string): RecordedModel {
  const found = recordedModels().find((r) => r.model === model);
  if (!found) throw new Error(`no recorded schema for ${model} in ${RECORDED_DIR}`);
  return found;
}

type Components = { schemas: Record<string, Schema> };

export function componentsOf(openapi: Schema): Record<string, Schema> {
  return (openapi.components as Components | undefined)?.schemas ?? {};
}

/**
 * What a destination version trained by `trainer` serves: the same cog image's predictor, so the
 * trainer's document without its training side (`TrainingInput`, `TrainingOutput`, `/trainings`).
 */
export function trainedVersionOf(trainer: Schema): Schema {
  const doc = structuredClone(trainer);
  const schemas = componentsOf(doc);
  for (const key of ["TrainingInput", "TrainingOutput", "TrainingRequest", "TrainingResponse"]) delete schemas[key];
  const paths = doc.paths as Record<string, unknown> | undefined;
  if (paths) for (const key of Object.keys(paths)) if (key.startsWith("/trainings")) delete paths[key];
  return doc;
}
