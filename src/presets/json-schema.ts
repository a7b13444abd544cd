/**
 * presets/schema.json is generated from the zod schema so editors (via the yaml-language-server
 * comment at the top of each preset) complete and check presets. A test keeps the file current;
 * regenerate it with `npm run schema`.
 */
import { z } from "zod";
import { presetSchema } from "./schema.js";

export function presetJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(presetSchema, { target: "draft-2020-12", io: "input" }) as Record<string, unknown>;
  return {
    $id: "https://github.com/headshot-cli/headshot/presets/schema.json",
    title: "headshot preset",
    description: "A headshot described the way a photographer would: camera, lighting, skin, attire, background, expression, plus sampler settings.",
    ...schema,
  };
}

export function presetJsonSchemaText(): string {
  return `${JSON.stringify(presetJsonSchema(), null, 2)}\n`;
}
