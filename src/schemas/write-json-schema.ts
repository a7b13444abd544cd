/** `npm run schema`: rewrites presets/schema.json and presets/batch.schema.json from the zod schemas. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILTIN_PRESETS_DIR } from "../presets/load.js";
import { SCHEMA_FILES } from "./json-schema.js";

for (const [file, text] of Object.entries(SCHEMA_FILES)) writeFileSync(join(BUILTIN_PRESETS_DIR, file), text());
