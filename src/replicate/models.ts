/**
 * Account, models and versions: the look-ups training and generation do before paying.
 */
import { RemoteApiError } from "../errors.js";
import type { ReplicateSession } from "./client.js";
import { isAmbiguousCreate } from "./errors.js";
import { assertValidInput, inputKeyFor, type OpenApiDocument } from "./input-schema.js";
import type { PredictionTarget } from "./predictions.js";

export interface Account {
  type: "user" | "organization";
  username: string;
  name?: string;
}

export interface ModelVersion {
  id: string;
  created_at?: string;
  cog_version?: string | null;
  openapi_schema: OpenApiDocument | null;
}

export interface Model {
  owner: string;
  name: string;
  visibility: "public" | "private";
  description?: string | null;
  is_official?: boolean;
  latest_version: ModelVersion | null;
  url?: string;
}

function isNotFound(error: unknown): boolean {
  return error instanceof RemoteApiError && error.status === 404;
}

/** `GET /account`: the token's user or organisation (also the cheapest "is my token OK" check). */
export async function getAccount(session: ReplicateSession, signal?: AbortSignal): Promise<Account> {
  return (await session.replicate.accounts.current(signal ? { signal } : {})) as Account;
}

export async function getModel(session: ReplicateSession, owner: string, name: string, signal?: AbortSignal): Promise<Model> {
  return (await session.replicate.models.get(owner, name, signal ? { signal } : {})) as unknown as Model;
}

/** Like getModel, but `undefined` when it does not exist. */
export async function findModel(session: ReplicateSession, owner: string, name: string, signal?: AbortSignal): Promise<Model | undefined> {
  try {
    return await getModel(session, owner, name, signal);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function getVersion(session: ReplicateSession, owner: string, name: string, id: string, signal?: AbortSignal): Promise<ModelVersion> {
  return (await session.replicate.models.versions.get(owner, name, id, signal ? { signal } : {})) as unknown as ModelVersion;
}

/** The model's latest version (the trainer version to pass to a training). */
export async function getLatestVersion(session: ReplicateSession, owner: string, name: string, signal?: AbortSignal): Promise<ModelVersion> {
  const model = await getModel(session, owner, name, signal);
  if (!model.latest_version) {
    throw new RemoteApiError(`The model ${owner}/${name} has no version yet.`, {
      code: "E_REPLICATE_NO_VERSION",
      hint: "Train it first (headshot train --backend replicate), or check the model name.",
    });
  }
  return model.latest_version;
}

export interface CreateModelOptions {
  visibility?: "public" | "private";
  /** Any SKU from GET /hardware; trained FLUX LoRAs run on Replicate's shared base anyway (2.7). */
  hardware?: string;
  description?: string;
  signal?: AbortSignal;
}

/**
 * Creates `owner/name` (private, gpu-t4 by default). After an ambiguous failure it checks whether
 * the model exists before trying again; a model that exists counts as created.
 */
export async function createModel(session: ReplicateSession, owner: string, name: string, options: CreateModelOptions = {}): Promise<Model> {
  const body = {
    visibility: options.visibility ?? "private",
    hardware: options.hardware ?? "gpu-t4",
    ...(options.description ? { description: options.description } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  try {
    return (await session.replicate.models.create(owner, name, body)) as unknown as Model;
  } catch (error) {
    if (!isAmbiguousCreate(error)) throw error;
    const found = await findModel(session, owner, name, options.signal);
    if (found) return found;
    return (await session.replicate.models.create(owner, name, body)) as unknown as Model;
  }
}

/** The destination model of a training: found, or created. */
export async function ensureModel(session: ReplicateSession, owner: string, name: string, options: CreateModelOptions = {}): Promise<{ model: Model; created: boolean }> {
  const existing = await findModel(session, owner, name, options.signal);
  if (existing) return { model: existing, created: false };
  return { model: await createModel(session, owner, name, options), created: true };
}

/** The OpenAPI schema for what a prediction target runs (an official model's latest version, or a pinned version). */
export async function schemaFor(session: ReplicateSession, target: PredictionTarget, signal?: AbortSignal): Promise<{ label: string; schema: OpenApiDocument | null }> {
  if ("model" in target) {
    const [owner, name] = target.model.split("/");
    const version = await getLatestVersion(session, owner ?? "", name ?? "", signal);
    return { label: target.model, schema: version.openapi_schema };
  }
  const match = target.version.match(/^([^/]+)\/([^:]+):([0-9a-f]{64})$/);
  if (!match) {
    throw new RemoteApiError(`Cannot look up the schema of version ${JSON.stringify(target.version)}: use the owner/name:<64-hex> form.`, {
      code: "E_REPLICATE_VERSION_REF",
      hint: "Pass the version as owner/name:<id>, as a training's output.version gives it.",
    });
  }
  const version = await getVersion(session, match[1] ?? "", match[2] ?? "", match[3] ?? "", signal);
  return { label: target.version, schema: version.openapi_schema };
}

/**
 * Fetches the target's input schema and throws a UsageError listing every bad field before any
 * paid request is made. Cache the schema yourself when validating a batch (`assertValidInput`).
 * `mode: "train"` checks a trainer's `TrainingInput` (its `Input` is the prediction schema).
 */
export async function validateInput(
  session: ReplicateSession,
  target: PredictionTarget,
  input: Record<string, unknown>,
  signal?: AbortSignal,
  mode: "predict" | "train" = "predict",
): Promise<OpenApiDocument | null> {
  const { label, schema } = await schemaFor(session, target, signal);
  if (schema) assertValidInput(schema, input, label, inputKeyFor(schema, mode));
  return schema;
}
