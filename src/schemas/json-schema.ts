/**
 * presets/schema.json (presets) and presets/batch.schema.json (batch files) are generated from
 * the zod schemas so editors (via the yaml-language-server comment at the top of a file) complete
 * and check them. A test keeps the files current; regenerate them with `npm run schema`.
 */
import { z } from "zod";
import { batchSchema } from "../batch/schema.js";
import { presetSchema } from "../presets/schema.js";

const BASE = "https://github.com/headshot-cli/headshot/presets";

function toJsonSchema(schema: z.ZodType, id: string, title: string, description: string): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return { $id: `${BASE}/${id}`, title, description, ...json };
}

export function presetJsonSchema(): Record<string, unknown> {
  return toJsonSchema(
    presetSchema,
    "schema.json",
    "headshot preset",
    "A headshot described the way a photographer would: camera, lighting, skin, attire, background, expression, plus sampler settings.",
  );
}

export function batchJsonSchema(): Record<string, unknown> {
  return toJsonSchema(batchSchema, "batch.schema.json", "headshot batch file", "People, the presets each gets, shared defaults and a budget, for `headshot batch`.");
}

export const SCHEMA_FILES = {
  "schema.json": () => `${JSON.stringify(presetJsonSchema(), null, 2)}\n`,
  "batch.schema.json": () => `${JSON.stringify(batchJsonSchema(), null, 2)}\n`,
} as const;

export function presetJsonSchemaText(): string {
  return SCHEMA_FILES["schema.json"]();
}
