/**
 * House style: one concern per file, soft cap ~300 lines (GUIDE "Code"). A new file over the cap
 * fails here; split it by concern with names a newcomer can guess (e.g. src/replicate/retry-fetch.ts
 * -> clock.ts, rate-limiter.ts, retry-rules.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importGraph } from "./import-graph.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAX_LINES = 300;

/** Files still over the cap, with their length when listed: they may shrink, never grow. */
const ALLOWED: Record<string, number> = {};

describe("file length", () => {
  const lengths = new Map(importGraph(ROOT).files.map((f) => [f, readFileSync(join(ROOT, f), "utf8").trimEnd().split("\n").length]));

  it(`has no file of src/ over ${MAX_LINES} lines outside the allow-list, and none listed grew`, () => {
    const over = [...lengths].filter(([file, n]) => n > MAX_LINES && n > (ALLOWED[file] ?? 0)).map(([file, n]) => `${file} (${n} lines)`);
    expect(over).toEqual([]);
  });

  it("keeps the allow-list honest: every entry still exists and is still over the cap", () => {
    expect(Object.keys(ALLOWED).filter((file) => (lengths.get(file) ?? 0) <= MAX_LINES)).toEqual([]);
  });
});
