/**
 * Models recorded as fixtures in test/fixtures/replicate/models/<owner>__<name>.json (shape
 * `{model, version, read_at, source, notes, openapi_schema}`): every one that names a 64-hex
 * version is served as a public model with that version, its output shape taken from the schema
 * (a URI string: "single"; a list: "array"). Minimal registration for polish's models (issue 17);
 * a fixture without a concrete version (the flux-fine-tuner's trained-version schema) is read by
 * tests through `fixtureSchema` instead.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ModelRecord, Schema } from "./catalog.js";

export const MODEL_FIXTURES_DIR = join(process.cwd(), "test", "fixtures", "replicate", "models");

interface ModelFixture {
  model: string;
  version: string;
  openapi_schema: Schema;
}

function readFixtures(): ModelFixture[] {
  let names: string[];
  try {
    names = readdirSync(MODEL_FIXTURES_DIR).filter((n) => n.endsWith(".json"));
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(join(MODEL_FIXTURES_DIR, n), "utf8")) as ModelFixture);
}

/** The recorded OpenAPI schema of `owner/name`. */
export function fixtureSchema(model: string): Schema {
  const found = readFixtures().find((f) => f.model === model);
  if (!found) throw new Error(`no fixture for ${model} in ${MODEL_FIXTURES_DIR}`);
  return JSON.parse(JSON.stringify(found.openapi_schema)) as Schema;
}

export function fixtureModels(now: number): ModelRecord[] {
  return readFixtures()
    .filter((f) => /^[0-9a-f]{64}$/.test(f.version))
    .map((f) => {
      const [owner, name] = f.model.split("/") as [string, string];
      const output = ((f.openapi_schema.components as Record<string, Record<string, Schema>> | undefined)?.schemas?.Output ?? {}) as Schema;
      return {
        owner,
        name,
        description: `${f.model} (emulated from its recorded schema)`,
        visibility: "public",
        is_official: false,
        hardware: "gpu-t4",
        versions: [{ id: f.version, created_at: now - 86_400_000, cog_version: "0.9.0", openapi_schema: f.openapi_schema }],
        output: { shape: output.type === "array" ? "array" : "single", formatField: "output_format", defaultFormat: "png", nsfwError: "NSFW content detected." },
        run_count: 1000,
        created_at: now - 86_400_000 * 300,
      } satisfies ModelRecord;
    });
}
