/**
 * Variation matrices: `variations: { attire: [a, b], lighting.setup: [x, y] }` gives the four
 * shots a x, a y, b x, b y. Axes are combined in file order, values in list order, so the
 * matrix (and with it every file name) is stable.
 */
import type { Diagnostic } from "../errors.js";
import type { LocatedDocument } from "../yaml/located.js";
import { locatePath } from "../yaml/located.js";
import { checkFragment, setPath } from "./paths.js";
import type { PresetFile } from "./schema.js";

export interface Variation {
  /** File-name-safe label, e.g. "navy-blazer_rembrandt"; "default" when there are no axes. */
  label: string;
  /** axis -> chosen value label, for the manifest and dry-run. */
  axes: Record<string, string>;
  /** path -> value to apply on top of the preset. */
  assignments: Array<{ path: string; value: unknown }>;
}

export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 32)
      .replace(/-+$/g, "") || "x"
  );
}

const FILLER = new Set(["a", "an", "the", "of", "over", "with", "in", "and", "on", "at", "to"]);

/** A short file-name-safe label: the first three meaningful words ("tailored-navy-blazer"). */
export function shortLabel(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter((w) => w && !FILLER.has(w.toLowerCase()));
  return slug(words.slice(0, 3).join(" ") || text);
}

/** A short human label for one axis value: its `name`, or a short form of the value. */
export function valueLabel(value: unknown): string {
  if (typeof value === "string" || typeof value === "number") return shortLabel(String(value));
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const named = obj.name ?? obj.label ?? Object.values(obj).find((v) => typeof v === "string" || typeof v === "number");
    if (named !== undefined) return obj.name !== undefined || obj.label !== undefined ? slug(String(named)) : shortLabel(String(named));
  }
  return "x";
}

/** Drops the `name`/`label` used for file names; `{name, value}` stands for a plain value. */
function stripLabel(value: unknown): unknown {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const { name: _name, label: _label, ...rest } = value as Record<string, unknown>;
    if ("value" in rest && Object.keys(rest).length === 1) return rest.value;
    return rest;
  }
  return value;
}

export function expandVariations(preset: PresetFile): Variation[] {
  const axes = Object.entries(preset.variations ?? {});
  if (axes.length === 0) return [{ label: "default", axes: {}, assignments: [] }];
  let combos: Variation[] = [{ label: "", axes: {}, assignments: [] }];
  for (const [axis, values] of axes) {
    const next: Variation[] = [];
    for (const combo of combos) {
      for (const value of values) {
        const label = valueLabel(value);
        next.push({
          label: combo.label ? `${combo.label}_${label}` : label,
          axes: { ...combo.axes, [axis]: label },
          assignments: [...combo.assignments, { path: axis, value: stripLabel(value) }],
        });
      }
    }
    combos = next;
  }
  return combos;
}

export function applyVariation(preset: PresetFile, variation: Variation): PresetFile {
  let out = preset as Record<string, unknown>;
  for (const { path, value } of variation.assignments) {
    const existing = path.split(".").reduce<unknown>((acc, k) => (acc && typeof acc === "object" ? (acc as Record<string, unknown>)[k] : undefined), out);
    // A section value (e.g. a whole lighting object) merges over the inherited section.
    const merged =
      existing && typeof existing === "object" && !Array.isArray(existing) && value && typeof value === "object" && !Array.isArray(value)
        ? { ...(existing as Record<string, unknown>), ...(value as Record<string, unknown>) }
        : value;
    out = setPath(out, path, merged);
  }
  return out as PresetFile;
}

/** Located problems in a file's variation axes (unknown field paths, values of the wrong kind). */
export function checkVariations(data: PresetFile, parsed: LocatedDocument): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const [axis, values] of Object.entries(data.variations ?? {})) {
    values.forEach((value, i) => {
      const problem = checkFragment(axis, stripLabel(value));
      if (!problem) return;
      diagnostics.push({
        severity: "error",
        message: `variations.${axis}: ${problem.message}`,
        location: locatePath(parsed, problem.message.startsWith("unknown field") ? ["variations"] : ["variations", axis, i], problem.message.startsWith("unknown field") ? axis : undefined),
        ...(problem.hint ? { hint: problem.hint } : {}),
      });
    });
  }
  // Duplicate labels would give two shots the same file name.
  const labels = expandVariations(data).map((v) => v.label);
  const dupes = labels.filter((l, i) => labels.indexOf(l) !== i);
  if (dupes.length) {
    diagnostics.push({
      severity: "error",
      message: `variations give two shots the same label "${dupes[0]}"`,
      location: locatePath(parsed, ["variations"]),
      hint: "give object values a distinct `name:`",
    });
  }
  return diagnostics;
}
