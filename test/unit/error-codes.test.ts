/**
 * The one registry of error codes (src/error-codes.ts): README's table is generated from it, and
 * every code the sources throw or record is in it. Regenerate the README block by pasting the
 * "expected" side of a failure between the markers.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, errorCodeTable, isErrorCode } from "../../src/error-codes.js";
import { ExitCode, UsageError } from "../../src/errors.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const START = "<!-- error-codes:start (generated from src/error-codes.ts) -->";
const END = "<!-- error-codes:end -->";

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

describe("error codes", () => {
  it("README's table is the registry's", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const start = readme.indexOf(START);
    const end = readme.indexOf(END);
    expect(start).toBeGreaterThan(0);
    expect(readme.slice(start + START.length, end).trim()).toBe(errorCodeTable());
  });

  it("every code in src/ is registered, and every registered code is used", () => {
    const used = new Set<string>();
    for (const file of sources(join(ROOT, "src"))) {
      if (file.endsWith("error-codes.ts")) continue;
      for (const m of readFileSync(file, "utf8").matchAll(/"(E_[A-Z0-9_]+)"/g)) used.add(m[1] as string);
    }
    expect([...used].filter((c) => !isErrorCode(c))).toEqual([]);
    // Two are built from the job kind in src/replicate/poll.ts.
    const built = ["E_REPLICATE_TRAINING_CANCELED", "E_REPLICATE_TRAINING_ABORTED"];
    expect(Object.keys(ERROR_CODES).filter((c) => !used.has(c) && !built.includes(c))).toEqual([]);
  });

  it("gives each code a documented exit code and a one-line meaning", () => {
    const exits = new Set<number>(Object.values(ExitCode));
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(exits.has(entry.exit), code).toBe(true);
      expect(entry.meaning, code).toMatch(/^[^\n]{5,100}$/);
    }
    expect(isErrorCode("E_NOT_A_CODE")).toBe(false);
    expect(new UsageError("x", { code: "E_GEN_FLAGS" }).exitCode).toBe(ERROR_CODES.E_GEN_FLAGS.exit);
  });
});
