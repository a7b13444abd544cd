/** `npm run schema`: rewrites presets/schema.json from the zod schema. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_PRESETS_DIR } from "./load.js";
import { presetJsonSchemaText } from "./json-schema.js";

writeFileSync(join(BUILTIN_PRESETS_DIR, "schema.json"), presetJsonSchemaText());
