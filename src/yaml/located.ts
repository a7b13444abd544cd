/**
 * Parse a YAML file and validate it with a zod schema, reporting every problem at once with its
 * `file:line:col`, the source line, a caret and a "did you mean" (house style: changesets'
 * config/parse.ts; the `yaml` document API keeps source ranges). Used for presets, the project
 * config and batch files.
 */
import { LineCounter, isAlias, isMap, isPair, isScalar, parseDocument, visit, type Document, type Node as YamlNode } from "yaml";
import { z } from "zod";
import { ConfigFileError, type Diagnostic, type SourceLocation } from "../errors.js";
import { closest, closestKey } from "../util/did-you-mean.js";

export interface LocatedDocument {
  file: string;
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export function parseYaml(file: string, text: string): { parsed: LocatedDocument; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const parsed: LocatedDocument = { file, text, doc, lineCounter };
  const diagnostics: Diagnostic[] = [];
  for (const error of doc.errors) {
    diagnostics.push({
      severity: "error",
      message: `YAML syntax: ${firstLine(error.message)}`,
      location: locationAt(parsed, error.pos[0], error.pos[1] - error.pos[0]),
      hint: error.code === "DUPLICATE_KEY" ? "remove one of the two entries" : "check indentation and quoting near here",
    });
  }
  for (const warning of doc.warnings) {
    diagnostics.push({
      severity: "warning",
      message: firstLine(warning.message),
      location: locationAt(parsed, warning.pos[0], warning.pos[1] - warning.pos[0]),
    });
  }
  return { parsed, diagnostics };
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}

/** Converts a character offset into a 1-based location with the source line for the caret. */
export function locationAt(parsed: LocatedDocument, offset: number, length = 1): SourceLocation {
  const pos = parsed.lineCounter.linePos(Math.max(0, Math.min(offset, parsed.text.length)));
  const lineStart = parsed.lineCounter.lineStarts[pos.line - 1] ?? 0;
  const lineEndRaw = parsed.text.indexOf("\n", lineStart);
  const lineText = parsed.text.slice(lineStart, lineEndRaw === -1 ? undefined : lineEndRaw).replace(/\r$/, "");
  const maxLength = Math.max(1, lineText.length - (pos.col - 1));
  return { file: parsed.file, line: pos.line, col: pos.col, lineText, length: Math.max(1, Math.min(length, maxLength)) };
}

/** Where a value (or, with `keyOf`, the key naming it) sits in the document. */
export function locatePath(parsed: LocatedDocument, path: ReadonlyArray<PropertyKey>, keyOf?: string): SourceLocation | undefined {
  const segments = path.map((p) => (typeof p === "symbol" ? String(p) : p));
  const node = segments.length === 0 ? parsed.doc.contents : (parsed.doc.getIn(segments, true) as YamlNode | undefined);
  if (keyOf !== undefined && isMap(node)) {
    const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === keyOf);
    if (pair && isPair(pair) && isScalar(pair.key) && pair.key.range) {
      return locationAt(parsed, pair.key.range[0], pair.key.range[1] - pair.key.range[0]);
    }
  }
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (range) return locationAt(parsed, range[0], range[1] - range[0]);
  // The path does not exist in the file (a missing required key): point at its parent.
  if (segments.length > 0) return locatePath(parsed, segments.slice(0, -1));
  return undefined;
}

/** The keys an object schema accepts at `path`, for "did you mean" on unknown keys. */
export function knownKeysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] {
  let current: z.ZodType | undefined = unwrap(schema);
  for (const segment of path) {
    if (!current) return [];
    if (current instanceof z.ZodObject) current = unwrap(current.shape[String(segment)] as z.ZodType | undefined);
    else if (current instanceof z.ZodArray) current = unwrap(current.element as z.ZodType);
    else if (current instanceof z.ZodRecord) current = unwrap(current.valueType as z.ZodType);
    else return [];
  }
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (let i = 0; i < 10 && current; i++) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else if (current instanceof z.ZodUnion) {
      // Prefer the object member of a union (e.g. `string | {…}`) for key suggestions.
      current = (current.options as unknown as z.ZodType[]).find((o) => unwrap(o) instanceof z.ZodObject) ?? (current.options[0] as unknown as z.ZodType);
    } else {
      return current;
    }
  }
  return current;
}

function pathLabel(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : String(p))).join(".").replace(/\.\[/g, "[");
}

/** Turns zod issues into located diagnostics with suggestions. */
export function zodDiagnostics(parsed: LocatedDocument, schema: z.ZodType, issues: ReadonlyArray<z.core.$ZodIssue>): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const issue of issues) {
    const where = pathLabel(issue.path);
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(schema, issue.path);
      for (const key of issue.keys) {
        const suggestion = closestKey(key, known);
        diagnostics.push({
          severity: "error",
          message: `unknown key "${key}"${where ? ` in ${where}` : ""}`,
          location: locatePath(parsed, issue.path, key),
          hint: suggestion ? `did you mean "${suggestion}"?` : known.length ? `allowed keys: ${known.join(", ")}` : undefined,
        });
      }
      continue;
    }
    if (issue.code === "invalid_value") {
      const values = issue.values.map(String);
      const actual = parsed.doc.getIn(issue.path.map(String));
      const suggestion = typeof actual === "string" ? closest(actual, values) : undefined;
      diagnostics.push({
        severity: "error",
        message: `${where}: ${typeof actual === "string" ? `"${actual}" is not allowed` : "value is not allowed"}`,
        location: locatePath(parsed, issue.path),
        hint: suggestion ? `did you mean "${suggestion}"? (allowed: ${values.join(", ")})` : `allowed: ${values.join(", ")}`,
      });
      continue;
    }
    const hint = numberAsTextHint(issue, parsed.doc.getIn(issue.path.map(String)));
    diagnostics.push({
      severity: "error",
      message: `${where ? `${where}: ` : ""}${issue.message}`,
      location: locatePath(parsed, issue.path),
      ...(hint ? { hint } : {}),
    });
  }
  return inLineOrder(diagnostics);
}

/**
 * A number where text is expected: YAML read `aperture: 2.8` as a number. Apertures are written
 * f/<number> (src/presets/schema.ts), so suggest that; anything else, the same text quoted.
 */
function numberAsTextHint(issue: z.core.$ZodIssue, actual: unknown): string | undefined {
  if (issue.code !== "invalid_type" || issue.expected !== "string" || typeof actual !== "number") return undefined;
  const key = issue.path[issue.path.length - 1];
  return key === "aperture" ? `did you mean "f/${actual}"? apertures are written f/<number>` : `write it as text: "${actual}"`;
}

/** Problems in the order of the file's lines (then columns); unlocated ones last, in their order. */
export function inLineOrder(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.location?.line ?? Infinity) - (b.d.location?.line ?? Infinity) || (a.d.location?.col ?? 0) - (b.d.location?.col ?? 0) || a.i - b.i)
    .map(({ d }) => d);
}

export interface ValidatedYaml<T> {
  value: T;
  parsed: LocatedDocument;
  warnings: Diagnostic[];
}

/**
 * Parses and validates in one go. Throws ConfigFileError listing every problem (syntax errors and
 * schema errors together) when anything is wrong; warnings are returned.
 */
export function loadYamlWithSchema<T>(file: string, text: string, schema: z.ZodType<T>, what: string): ValidatedYaml<T> {
  const { parsed, diagnostics } = parseYaml(file, text);
  const shaped = hasKnownKey(parsed, schema);
  const errors = diagnostics.filter((d) => d.severity === "error");
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  if (errors.length > 0) throw invalid(file, what, shaped ? errors : withoutSourceLines(errors));
  const converted = toPlain(parsed);
  if ("diagnostic" in converted) throw invalid(file, what, [converted.diagnostic]);
  const result = schema.safeParse(converted.value ?? {});
  if (!result.success) {
    const found = zodDiagnostics(parsed, schema, result.error.issues);
    throw invalid(file, what, shaped ? found : withoutSourceLines(found));
  }
  return { value: result.data, parsed, warnings };
}

/** Aliases one document may expand before it counts as an alias bomb (the yaml package's default). */
export const MAX_ALIAS_COUNT = 100;

/**
 * The document as plain data, or a located error for an alias bomb ("billion laughs"): the yaml
 * package refuses to expand more than `maxAliasCount` aliases and throws a ReferenceError
 * (eemeli/yaml src/nodes/Alias.ts), which would otherwise surface as a bug with a stack.
 */
export function toPlain(parsed: LocatedDocument): { value: unknown } | { diagnostic: Diagnostic } {
  try {
    return { value: parsed.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as unknown };
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    let location: SourceLocation | undefined;
    visit(parsed.doc, {
      Alias(_key, node) {
        if (node.range) location = locationAt(parsed, node.range[0], node.range[1] - node.range[0]);
        return location ? visit.BREAK : undefined;
      },
    });
    return {
      diagnostic: {
        severity: "error",
        message: `YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} alias expansions): refused as a resource exhaustion attack`,
        ...(location ? { location } : {}),
        hint: "write the values out instead of nesting anchors (&name) and aliases (*name)",
      },
    };
  }
}

/**
 * True when the document is a mapping with at least one key the schema knows. Only then is it
 * shown line by line: a file that is not a preset, batch file or config at all (a `.env`, a key
 * file, /etc/passwd) may hold secrets, so its errors name the place but never print its lines.
 */
export function hasKnownKey(parsed: LocatedDocument, schema: z.ZodType): boolean {
  const contents = parsed.doc.contents;
  if (!isMap(contents)) return false;
  const known = new Set(knownKeysAt(schema, []));
  return contents.items.some((item) => isPair(item) && isScalar(item.key) && !isAlias(item.key) && known.has(String(item.key.value)));
}

/** The same diagnostics without the source line under each location. */
export function withoutSourceLines(diagnostics: ReadonlyArray<Diagnostic>): Diagnostic[] {
  return diagnostics.map((d) => {
    if (!d.location) return d;
    const { lineText: _hidden, ...location } = d.location;
    return { ...d, location: { ...location, length: 1 } };
  });
}

export function invalid(file: string, what: string, diagnostics: Diagnostic[]): ConfigFileError {
  const n = diagnostics.filter((d) => d.severity === "error").length;
  return new ConfigFileError(`${what} ${file} has ${n} problem${n === 1 ? "" : "s"}`, inLineOrder(diagnostics), {
    hint: `fix the lines shown above, then run the command again`,
  });
}
