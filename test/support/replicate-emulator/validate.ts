/**
 * Emulator-side validation of model inputs against a version's Cog schema, answering like
 * Replicate: 422 "Input validation failed" with `invalid_fields` (replicate/replicate-python replicate/exceptions.py). It uses ajv,
 * independently of src/replicate/input-schema.ts, so the tests compare two implementations.
 *
 * Choice (unverified upstream): unknown input keys are ignored, as Cog's pydantic models do;
 * unknown top-level body keys are rejected (the spec's additionalProperties:false).
 */
import { Ajv, type ErrorObject } from "ajv";
import type { Schema } from "./catalog.js";

export interface InvalidField {
  type: string;
  field: string;
  description: string;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const cache = new WeakMap<Schema, Map<string, ReturnType<typeof ajv.compile>>>();

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function valueAt(input: Record<string, unknown>, pointer: string): unknown {
  let current: unknown = input;
  for (const part of pointer.split("/").filter(Boolean)) current = (current as Record<string, unknown> | undefined)?.[part];
  return current;
}

function toField(error: ErrorObject, input: Record<string, unknown>): InvalidField | undefined {
  const path = error.instancePath.split("/").filter(Boolean).join(".");
  const field = path ? `input.${path}` : "input";
  switch (error.keyword) {
    case "required": {
      const name = String(error.params.missingProperty);
      return { type: "required", field: `input.${name}`, description: `${name} is required` };
    }
    case "type":
      return { type: "invalid_type", field, description: `Invalid type. Expected: ${String(error.params.type)}, given: ${typeName(valueAt(input, error.instancePath))}` };
    case "enum":
      return { type: "enum", field, description: `${field} must be one of the following: ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "minimum":
      return { type: "number_gte", field, description: `Must be greater than or equal to ${String(error.params.limit)}` };
    case "maximum":
      return { type: "number_lte", field, description: `Must be less than or equal to ${String(error.params.limit)}` };
    case "maxItems":
      return { type: "array_max_items", field, description: `Array must have at most ${String(error.params.limit)} items` };
    case "minItems":
      return { type: "array_min_items", field, description: `Array must have at least ${String(error.params.limit)} items` };
    default:
      return error.keyword === "allOf" ? undefined : { type: error.keyword, field, description: error.message ?? "invalid" };
  }
}

/**
 * Which component a request is checked against: predictions use `Input`; trainings use
 * `TrainingInput`, and `Input` only when a version has none (replicate/cog pkg/predict/input.go,
 * `NewInputsForMode`; coglet compiles a separate TrainingInput validator).
 */
export function inputKeyFor(openapi: Schema, mode: "predict" | "train"): "Input" | "TrainingInput" {
  const schemas = (openapi.components as { schemas?: Record<string, Schema> } | undefined)?.schemas ?? {};
  return mode === "train" && schemas.TrainingInput ? "TrainingInput" : "Input";
}

export function validateInput(openapi: Schema, input: Record<string, unknown>, mode: "predict" | "train" = "predict"): InvalidField[] {
  const key = inputKeyFor(openapi, mode);
  let byKey = cache.get(openapi);
  if (!byKey) cache.set(openapi, (byKey = new Map()));
  let validate = byKey.get(key);
  if (!validate) {
    const components = (openapi.components as { schemas: Record<string, Schema> }).schemas;
    // "#/components/schemas/x" refs resolve against this root document.
    validate = ajv.compile({ ...components[key], components: { schemas: components } });
    byKey.set(key, validate);
  }
  if (validate(input)) return [];
  const seen = new Set<string>();
  const out: InvalidField[] = [];
  for (const error of validate.errors ?? []) {
    const field = toField(error, input);
    if (!field || seen.has(`${field.field}:${field.type}`)) continue;
    seen.add(`${field.field}:${field.type}`);
    out.push(field);
  }
  return out;
}

/** The 422 body Replicate sends for invalid input fields. */
export function invalidInputBody(fields: InvalidField[]): Record<string, unknown> {
  return {
    title: "Input validation failed",
    detail: fields.map((f) => `- ${f.field}: ${f.description}\n`).join(""),
    status: 422,
    invalid_fields: fields,
  };
}
