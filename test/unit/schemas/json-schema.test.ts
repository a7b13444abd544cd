import { readFile } from "node:fs/promises";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { SCHEMA_FILES } from "../../../src/schemas/json-schema.js";
import { BUILTIN_PRESETS_DIR, listPresets } from "../../../src/presets/load.js";

describe("presets/schema.json", () => {
  it.each(Object.keys(SCHEMA_FILES))("%s is current with the zod schema (regenerate with npm run schema)", async (file) => {
    const shipped = await readFile(join(BUILTIN_PRESETS_DIR, file), "utf8");
    expect(shipped).toBe(SCHEMA_FILES[file as keyof typeof SCHEMA_FILES]());
  });

  it("accepts every built-in preset and rejects a typo, so editors flag what headshot flags", async () => {
    const ajv = new Ajv2020.default({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(await readFile(join(BUILTIN_PRESETS_DIR, "schema.json"), "utf8")) as object);
    for (const preset of await listPresets([])) {
      const data = parse(await readFile(preset.path, "utf8")) as unknown;
      expect(validate(data), `${preset.name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(validate({ lightnig: { setup: "rembrandt" } })).toBe(false);
    expect(validate({ lighting: { setup: "rembrant" } })).toBe(false);
  });
});
