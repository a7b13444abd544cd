/**
 * The import graph of src/ (static, type-only and dynamic `import()` of relative paths), read from
 * the sources with a regular expression: enough for our own ESM files, which always import with a
 * literal "./x.js" specifier.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

export interface ImportGraph {
  files: string[];
  /** file -> files it imports (paths relative to the repository, e.g. src/cli/main.ts). */
  edges: Map<string, Set<string>>;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;

function walk(dir: string, out: string[]): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

export function importGraph(root: string): ImportGraph {
  const files = walk(join(root, "src"), []).map((f) => relative(root, f));
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    const targets = new Set<string>();
    for (const match of readFileSync(join(root, file), "utf8").matchAll(IMPORT)) {
      const spec = match[1] as string;
      targets.add(normalize(join(dirname(file), spec)).replace(/\.js$/, ".ts"));
    }
    edges.set(file, targets);
  }
  return { files, edges };
}

/** The room a file lives in: its first folder under src/ (files at src/ itself are their own). */
export function roomOf(file: string): string {
  const parts = file.split("/");
  return parts.length > 2 ? (parts[1] as string) : file;
}

/** Strongly connected components with more than one member (or a self-loop): the cycles. */
export function cycles(nodes: Iterable<string>, next: (node: string) => Iterable<string>): string[][] {
  let index = 0;
  const indexOf = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    indexOf.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of next(v)) {
      if (!indexOf.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, indexOf.get(w) as number));
    }
    if (low.get(v) === indexOf.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || [...next(v)].includes(v)) found.push(component.sort());
    }
  };
  for (const node of nodes) if (!indexOf.has(node)) visit(node);
  return found;
}
