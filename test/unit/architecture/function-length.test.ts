/**
 * "No function over about 80 lines outside declarative tables" (issue 16): a long function is the
 * one every change has to read whole. A new one fails here; split it into named steps instead.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importGraph } from "./import-graph.js";
import { functionLengths } from "./function-length.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAX_LINES = 80;

/**
 * Functions still over the limit, by file and name, with their length when this list was written.
 * Only shrinks: a function listed here may get shorter, never longer, and leaves the list once
 * it fits.
 */
const ALLOWED: Record<string, number> = {};

describe("function length", () => {
  const all = functionLengths(ROOT, importGraph(ROOT).files);

  it("reads every function of src/", () => {
    expect(all.length).toBeGreaterThan(500);
    expect(all.some((f) => f.file === "src/cli/main.ts" && f.name === "main")).toBe(true);
  });

  it(`has no function over ${MAX_LINES} lines outside the allow-list, and none listed grew`, () => {
    const long = all.filter((f) => f.lines > MAX_LINES).map((f) => ({ key: `${f.file} ${f.name}`, at: `${f.file}:${f.line}`, lines: f.lines }));
    const offending = long.filter((f) => ALLOWED[f.key] === undefined || f.lines > (ALLOWED[f.key] as number)).map((f) => `${f.at} ${f.key.split(" ")[1]} (${f.lines} lines)`);
    expect(offending).toEqual([]);
  });

  it("keeps the allow-list honest: every entry still exists and is still over the limit", () => {
    const lengths = new Map(all.map((f) => [`${f.file} ${f.name}`, f.lines]));
    const stale = Object.keys(ALLOWED).filter((key) => (lengths.get(key) ?? 0) <= MAX_LINES);
    expect(stale).toEqual([]);
  });
});
