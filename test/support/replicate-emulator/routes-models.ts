/** Account, hardware, models and versions (https://replicate.com/docs/reference/http; https://replicate.com/docs/reference/http#models.create). */
import type { ModelRecord, VersionRecord } from "./catalog.js";
import { json, notFound, problem, timestamp, type Answer } from "./http.js";
import type { RouteContext } from "./router.js";

function renderVersion(v: VersionRecord): Record<string, unknown> {
  return { id: v.id, created_at: timestamp(v.created_at), cog_version: v.cog_version, openapi_schema: v.openapi_schema };
}

export function renderModel(m: ModelRecord): Record<string, unknown> {
  const latest = m.versions[m.versions.length - 1];
  return {
    url: `https://replicate.com/${m.owner}/${m.name}`,
    owner: m.owner,
    name: m.name,
    description: m.description,
    visibility: m.visibility,
    github_url: null,
    paper_url: null,
    license_url: null,
    run_count: m.run_count,
    cover_image_url: null,
    default_example: null,
    is_official: m.is_official,
    latest_version: latest ? renderVersion(latest) : null,
  };
}

export function getAccount(ctx: RouteContext): Answer {
  const a = ctx.state.account;
  return json(200, { type: a.type, username: a.username, name: a.name ?? a.username, github_url: `https://github.com/${a.username}` });
}

export function getHardware(ctx: RouteContext): Answer {
  return json(200, ctx.state.hardware);
}

/** Private models are visible only to their owner (the token's account). */
function visible(ctx: RouteContext, owner: string, name: string): ModelRecord | undefined {
  const m = ctx.state.models.get(`${owner}/${name}`);
  if (!m || (m.visibility === "private" && m.owner !== ctx.state.account.username)) return undefined;
  return m;
}

export function getModel(ctx: RouteContext, owner: string, name: string): Answer {
  const m = visible(ctx, owner, name);
  return m ? json(200, renderModel(m)) : notFound();
}

export function listVersions(ctx: RouteContext, owner: string, name: string): Answer {
  const m = visible(ctx, owner, name);
  if (!m) return notFound();
  return json(200, { next: null, previous: null, results: [...m.versions].reverse().map(renderVersion) });
}

export function getVersion(ctx: RouteContext, owner: string, name: string, id: string): Answer {
  const v = visible(ctx, owner, name)?.versions.find((x) => x.id === id);
  return v ? json(200, renderVersion(v)) : notFound();
}

const CREATE_KEYS = ["owner", "name", "visibility", "hardware", "description", "github_url", "paper_url", "license_url", "cover_image_url"];

export function createModel(ctx: RouteContext): Answer {
  const { state } = ctx;
  const b = ctx.json as Record<string, unknown> | undefined;
  if (!b || typeof b !== "object") return problem(400, "Request body must be a JSON object.");
  const fields: Array<{ type: string; field: string; description: string }> = [];
  for (const k of ["owner", "name", "visibility", "hardware"]) {
    if (typeof b[k] !== "string") fields.push({ type: "required", field: k, description: `${k} is required` });
  }
  for (const k of Object.keys(b)) if (!CREATE_KEYS.includes(k)) fields.push({ type: "additional_property_not_allowed", field: "", description: `Additional property ${k} is not allowed` });
  if (typeof b.visibility === "string" && !["public", "private"].includes(b.visibility)) fields.push({ type: "enum", field: "visibility", description: "visibility must be one of the following: \"public\", \"private\"" });
  if (typeof b.hardware === "string" && !state.hardware.some((h) => h.sku === b.hardware)) fields.push({ type: "enum", field: "hardware", description: `Invalid hardware SKU ${String(b.hardware)}` });
  if (typeof b.name === "string" && !/^[a-z0-9][a-z0-9._-]*$/.test(b.name)) fields.push({ type: "invalid", field: "name", description: "Model names may contain lowercase letters, digits, dashes, underscores and periods." });
  if (fields.length) return json(422, { title: "Invalid request", detail: fields.map((f) => `- ${f.field}: ${f.description}\n`).join(""), status: 422, invalid_fields: fields });
  // Choices (unverified upstream): another owner → 403, an existing name → 409.
  if (b.owner !== state.account.username) return problem(403, "You do not have permission to create models for that owner.");
  const key = `${String(b.owner)}/${String(b.name)}`;
  if (state.models.has(key)) return problem(409, `A model with the name ${key} already exists.`);
  const model: ModelRecord = {
    owner: String(b.owner),
    name: String(b.name),
    description: typeof b.description === "string" ? b.description : null,
    visibility: b.visibility as "public" | "private",
    is_official: false,
    hardware: String(b.hardware),
    versions: [],
    run_count: 0,
    created_at: state.now(),
  };
  state.models.set(key, model);
  ctx.created(key);
  return json(201, renderModel(model));
}
