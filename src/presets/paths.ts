/**
 * Dotted field paths into a preset ("lighting.setup"), shared by `--set` overrides and variation
 * axes: set a value at a path, and validate that the path and value fit the schema, with a
 * "did you mean" for misspelt fields.
 */
import { parse as parseYamlScalar } from "yaml";
import { closest } from "../util/did-you-mean.js";
import { knownKeysAt } from "../yaml/located.js";
import { presetSchema, type PresetFile } from "./schema.js";

export function setPath<T extends Record<string, unknown>>(target: T, path: string, value: unknown): T {
  const keys = path.split(".");
  const out: Record<string, unknown> = { ...target };
  let cursor = out;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) {
      cursor[key] = value;
      return;
    }
    const next = cursor[key];
    const copy = typeof next === "object" && next !== null && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
    cursor[key] = copy;
    cursor = copy;
  });
  return out as T;
}

export function getPath(target: unknown, path: string): unknown {
  let cursor = target;
  for (const key of path.split(".")) {
    if (typeof cursor !== "object" || cursor === null) return undefined;
    cursor = (cursor as Record<string, unknown>)[key];
  }
  return cursor;
}

/** Checks that `value` at `path` is a valid preset fragment; returns a readable problem or undefined. */
export function checkFragment(path: string, value: unknown): { message: string; hint?: string } | undefined {
  if (path === "extends" || path === "name" || path === "variations" || path === "$schema") {
    return { message: `"${path}" cannot be set here` };
  }
  const fragment = setPath({}, path, value);
  const result = presetSchema.safeParse(fragment);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  if (!issue) return { message: "invalid value" };
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const known = knownKeysAt(presetSchema, issue.path);
    const prefix = issue.path.length ? `${issue.path.join(".")}.` : "";
    const suggestion = closest(key, known);
    return {
      message: `unknown field "${prefix}${key}"`,
      hint: suggestion ? `did you mean "${prefix}${suggestion}"?` : `fields here: ${known.map((k) => prefix + k).join(", ")}`,
    };
  }
  if (issue.code === "invalid_value") {
    const values = issue.values.map(String);
    const suggestion = typeof value === "string" ? closest(value, values) : undefined;
    return {
      message: `${path}: ${JSON.stringify(value)} is not allowed`,
      hint: `${suggestion ? `did you mean "${suggestion}"? ` : ""}allowed: ${values.join(", ")}`,
    };
  }
  return { message: `${issue.path.join(".") || path}: ${issue.message}` };
}

/** Parses one `--set key.path=value`; the value is read as a YAML scalar (numbers stay numbers). */
export function parseAssignment(raw: string): { path: string; value: unknown } | undefined {
  const eq = raw.indexOf("=");
  if (eq <= 0) return undefined;
  const path = raw.slice(0, eq).trim();
  const text = raw.slice(eq + 1).trim();
  let value: unknown = text;
  try {
    value = text === "" ? "" : parseYamlScalar(text);
  } catch {
    value = text;
  }
  return { path, value };
}

export function applyAssignments(preset: PresetFile, assignments: ReadonlyArray<{ path: string; value: unknown }>): PresetFile {
  let out = preset as Record<string, unknown>;
  for (const { path, value } of assignments) {
    out = path === "avoid" && typeof value === "string" ? setPath(out, path, [value]) : setPath(out, path, value);
  }
  return out as PresetFile;
}
