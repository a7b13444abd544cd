/**
 * Local validation of model inputs against a version's Cog input schema
 * (`openapi_schema.components.schemas.Input`, or `TrainingInput` for a training), so a bad input
 * fails before anything is paid for. The schema is read live from the model version each run.
 *
 * Cog schemas use a small subset of JSON Schema: `type`, `enum` (usually behind
 * `allOf: [{$ref: "#/components/schemas/<name>"}]`), `minimum`/`maximum`, `minItems`/`maxItems`,
 * `items`, `required`, `format: uri`. This checker covers exactly that subset with Replicate's
 * own error vocabulary (`required`, `invalid_type`, `enum`, `number_gte`, ...: the `invalid_fields` of
 * its 422 "Input validation failed" answers, https://replicate.com/changelog/2024-05-01-improved-validation-for-api-prediction-payloads),
 * instead of adding a schema library to the runtime dependencies. Unknown keys are errors here
 * (with a did-you-mean), because a misspelt input such as `guidance_scale` for `guidance` would
 * otherwise be ignored silently.
 */
import { UsageError, type Diagnostic } from "../errors.js";
import { closest } from "../util/did-you-mean.js";
import type { InvalidField } from "./errors.js";

export type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  allOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  $ref?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  nullable?: boolean;
  default?: unknown;
  description?: string;
  [key: string]: unknown;
};

export interface OpenApiDocument {
  components?: { schemas?: Record<string, JsonSchema> };
  [key: string]: unknown;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(expected: string, value: unknown): boolean {
  const actual = typeName(value);
  return expected === actual || (expected === "number" && actual === "integer");
}

function resolve(schema: JsonSchema, doc: OpenApiDocument, depth = 0): JsonSchema {
  if (depth > 8) return schema;
  let out: JsonSchema = { ...schema };
  if (schema.$ref) {
    const name = schema.$ref.replace(/^#\/components\/schemas\//, "");
    const target = doc.components?.schemas?.[name];
    delete out.$ref;
    if (target) out = { ...resolve(target, doc, depth + 1), ...out };
  }
  if (schema.allOf) {
    delete out.allOf;
    for (const part of schema.allOf) out = { ...resolve(part, doc, depth + 1), ...out };
  }
  return out;
}

/** Checks one value; returns Replicate-style invalid fields. */
function check(schema: JsonSchema, value: unknown, field: string, doc: OpenApiDocument, out: InvalidField[]): void {
  const s = resolve(schema, doc);
  if (value === null && s.nullable) return;
  const types = s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type];
  if (types.length && !types.some((t) => typeMatches(t, value))) {
    out.push({ type: "invalid_type", field, description: `Invalid type. Expected: ${types.join(" or ")}, given: ${typeName(value)}` });
    return;
  }
  if (s.enum && !s.enum.some((e) => e === value)) {
    out.push({ type: "enum", field, description: `${field} must be one of the following: ${s.enum.map((e) => JSON.stringify(e)).join(", ")}` });
  }
  if (typeof value === "number") {
    if (s.minimum !== undefined && value < s.minimum) out.push({ type: "number_gte", field, description: `Must be greater than or equal to ${s.minimum}` });
    if (s.maximum !== undefined && value > s.maximum) out.push({ type: "number_lte", field, description: `Must be less than or equal to ${s.maximum}` });
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) out.push({ type: "array_min_items", field, description: `Array must have at least ${s.minItems} items` });
    if (s.maxItems !== undefined && value.length > s.maxItems) out.push({ type: "array_max_items", field, description: `Array must have at most ${s.maxItems} items` });
    if (s.items) value.forEach((item, i) => check(s.items as JsonSchema, item, `${field}.${i}`, doc, out));
  }
}

/** Which component of a version's schema describes the inputs of a prediction or of a training. */
export type InputKey = "Input" | "TrainingInput";

/**
 * The component a request is validated against. A cog model with both `predict:` and `train:`
 * renders the prediction inputs as `Input` and the training inputs as `TrainingInput`; cog reads
 * training inputs from `TrainingInput` and falls back to `Input` only when a version has none
 * (replicate/cog pkg/schema/openapi_spec.go `inputKey`, pkg/predict/input.go `NewInputsForMode`).
 */
export function inputKeyFor(openapi: OpenApiDocument | null | undefined, mode: "predict" | "train"): InputKey {
  return mode === "train" && openapi?.components?.schemas?.TrainingInput ? "TrainingInput" : "Input";
}

/** The `Input` (or `TrainingInput`) schema of a version's openapi_schema, or undefined when absent. */
export function inputSchemaOf(openapi: OpenApiDocument | null | undefined, key: InputKey = "Input"): JsonSchema | undefined {
  return openapi?.components?.schemas?.[key];
}

/** All problems with `input`, as Replicate would list them (field names `input.<name>`). */
export function validateInputAgainst(openapi: OpenApiDocument, input: Record<string, unknown>, key: InputKey = "Input"): InvalidField[] {
  const schema = inputSchemaOf(openapi, key);
  if (!schema) return [];
  const out: InvalidField[] = [];
  const properties = schema.properties ?? {};
  for (const name of schema.required ?? []) {
    if (input[name] === undefined) out.push({ type: "required", field: `input.${name}`, description: `${name} is required` });
  }
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const property = properties[name];
    if (!property) {
      out.push({ type: "additional_property_not_allowed", field: `input.${name}`, description: `Additional property ${name} is not allowed` });
      continue;
    }
    check(property, value, `input.${name}`, openapi, out);
  }
  return out;
}

/** A typo, or the same input under another model's name (flux-dev-lora's `guidance` is `guidance_scale` on trained versions). */
function suggest(name: string, known: string[]): string | undefined {
  const typo = closest(name, known);
  if (typo) return typo;
  const related = known.filter((k) => k.length >= 4 && (name.startsWith(k) || k.startsWith(name)));
  return related.sort((a, b) => b.length - a.length)[0];
}

/**
 * Throws a UsageError listing every invalid field (with did-you-mean for unknown names), so the
 * user fixes the preset or flags before any money is spent.
 */
export function assertValidInput(openapi: OpenApiDocument, input: Record<string, unknown>, modelLabel: string, key: InputKey = "Input"): void {
  const problems = validateInputAgainst(openapi, input, key);
  if (!problems.length) return;
  const known = Object.keys(inputSchemaOf(openapi, key)?.properties ?? {});
  const diagnostics: Diagnostic[] = problems.map((p) => {
    const name = p.field.replace(/^input\./, "").split(".")[0] ?? "";
    const suggestion = p.type === "additional_property_not_allowed" ? suggest(name, known) : undefined;
    return { severity: "error", message: `${p.field}: ${p.description}`, ...(suggestion ? { hint: `did you mean "${suggestion}"?` } : {}) };
  });
  throw new UsageError(`The input for ${modelLabel} does not match its ${key} schema (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was sent.`, {
    code: "E_REPLICATE_INPUT_INVALID",
    diagnostics,
    details: diagnostics.map((d) => (d.hint ? `${d.message} (${d.hint})` : d.message)),
    hint: `See the model's inputs at https://replicate.com/${modelLabel.split(":")[0]}/api.`,
  });
}
