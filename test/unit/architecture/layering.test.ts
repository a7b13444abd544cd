/**
 * Keeps the house in order (issue 16): no import cycles between files or between rooms (folders
 * of src/), and nothing outside src/cli/ reaches into it. The lint rule in eslint.config.js says
 * the same at edit time; this test also sees dynamic import() and cycles.
 */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cycles, importGraph, roomOf } from "./import-graph.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const graph = importGraph(ROOT);

describe("src/ layering", () => {
  it("reads the whole tree", () => {
    expect(graph.files.length).toBeGreaterThan(100);
    expect(graph.edges.get("src/cli/main.ts")?.size).toBeGreaterThan(0);
  });

  it("has no import cycle between files", () => {
    expect(cycles(graph.files, (f) => graph.edges.get(f) ?? [])).toEqual([]);
  });

  it("has no import cycle between rooms", () => {
    const rooms = new Map<string, Set<string>>();
    for (const [file, targets] of graph.edges) {
      const from = roomOf(file);
      const set = rooms.get(from) ?? new Set<string>();
      for (const target of targets) if (roomOf(target) !== from) set.add(roomOf(target));
      rooms.set(from, set);
    }
    expect(cycles(rooms.keys(), (r) => rooms.get(r) ?? [])).toEqual([]);
  });

  it("keeps src/cli/ to itself: no module outside it imports from it", () => {
    const upward = [...graph.edges].flatMap(([file, targets]) => (file.startsWith("src/cli/") ? [] : [...targets].filter((t) => t.startsWith("src/cli/")).map((t) => `${file} -> ${t}`)));
    expect(upward).toEqual([]);
  });

  it("finds a cycle when there is one (the check can fail)", () => {
    const edges: Record<string, string[]> = { a: ["b"], b: ["c"], c: ["a"], d: ["a"] };
    expect(cycles(Object.keys(edges), (n) => edges[n] ?? [])).toEqual([["a", "b", "c"]]);
  });
});
