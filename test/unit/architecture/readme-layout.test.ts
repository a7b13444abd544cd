/**
 * README's "Layout" table matches the tree (issue 16): every folder and file directly under src/
 * is in it, every path it names exists, and every file a row names (`engine-run.ts`,
 * `backends/`) is in that row's folder. Rename or add a room, and this says which row to fix.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface Row {
  paths: string[];
  text: string;
}

/** The rows of the table after "Layout (": first cell's backticked paths, and the description. */
function layoutRows(readme: string): Row[] {
  const start = readme.indexOf("\nLayout (");
  const lines = readme.slice(start).split("\n");
  const first = lines.findIndex((l) => l.startsWith("| folder |"));
  const rows: Row[] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith("|")) break;
    const [, pathCell = "", text = ""] = line.split(" | ").length > 1 ? ["", ...line.slice(2, -2).split(" | ")] : [];
    rows.push({ paths: [...pathCell.matchAll(/`([^`]+)`/g)].map((m) => (m[1] as string).replace(/\/$/, "")), text });
  }
  return rows;
}

/** Every file and folder under `dir`, relative to it. */
function tree(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    return e.isDirectory() ? [`${rel}/`, ...tree(join(dir, e.name), rel)] : [rel];
  });
}

describe("README layout", () => {
  const rows = layoutRows(readFileSync(join(ROOT, "README.md"), "utf8"));
  const listed = new Set(rows.flatMap((r) => r.paths));

  it("reads the table", () => {
    expect(rows.length).toBeGreaterThan(10);
    expect(listed.has("src/cli")).toBe(true);
  });

  it("names every folder and file directly under src/", () => {
    const children = readdirSync(join(ROOT, "src"), { withFileTypes: true }).map((e) => `src/${e.name}`);
    expect(children.filter((c) => !listed.has(c))).toEqual([]);
  });

  it("names only paths that exist", () => {
    expect([...listed].filter((p) => !existsSync(join(ROOT, p)))).toEqual([]);
  });

  it("names only files that are in the row's folder", () => {
    const missing: string[] = [];
    for (const row of rows) {
      const folders = row.paths.filter((p) => p.startsWith("src/") && !p.endsWith(".ts"));
      if (folders.length === 0) continue;
      const inRow = new Set(folders.flatMap((f) => tree(join(ROOT, f))));
      const named = [...row.text.matchAll(/`([\w./-]+\.ts|[\w-]+\/)`/g)].map((m) => m[1] as string);
      for (const name of named) {
        const found = [...inRow].some((p) => p === name || p.endsWith(`/${name}`));
        if (!found) missing.push(`${folders.join(", ")}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
