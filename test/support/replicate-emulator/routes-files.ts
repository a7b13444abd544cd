/**
 * Files API (https://replicate.com/docs/reference/http#files.create): multipart `content` (+ optional `filename`, `type`, `metadata`),
 * 413 problem+json at the size limit, get/list/delete, and outputs served without auth.
 */
import { createHash } from "node:crypto";
import { json, problem, timestamp, type Answer } from "./http.js";
import { renderImage } from "./outputs.js";
import type { RouteContext } from "./router.js";
import type { StoredFile } from "./state.js";

function renderFile(ctx: RouteContext, f: StoredFile): Record<string, unknown> {
  return {
    id: f.id,
    name: f.name,
    content_type: f.contentType,
    size: f.bytes.length,
    etag: `"${f.md5}"`,
    checksums: { sha256: f.sha256, md5: f.md5 },
    metadata: f.metadata,
    created_at: timestamp(f.createdAt),
    expires_at: timestamp(f.expiresAt),
    urls: { get: `${ctx.state.baseUrl}/files/${f.id}` },
  };
}

function tooLarge(): Answer {
  return problem(413, "Files must be less than 100MB in size", {}, "application/problem+json");
}

export async function createFile(ctx: RouteContext): Promise<Answer> {
  const { state } = ctx;
  const type = ctx.header("content-type") ?? "";
  if (!type.startsWith("multipart/form-data")) return problem(415, "Expected multipart/form-data.");
  if (!ctx.body || ctx.body.length > state.maxFileBytes + 64 * 1024) return ctx.body ? tooLarge() : problem(400, "Empty body.");
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(ctx.body), { headers: { "content-type": type } }).formData();
  } catch {
    return problem(400, "Could not parse the multipart body.");
  }
  const content = form.get("content");
  if (!(content instanceof Blob)) {
    return json(422, { title: "Invalid request", detail: "- content: content is required\n", status: 422, invalid_fields: [{ type: "required", field: "content", description: "content is required" }] });
  }
  const bytes = Buffer.from(await content.arrayBuffer());
  if (bytes.length >= state.maxFileBytes) return tooLarge();
  let metadata: Record<string, unknown> = {};
  const meta = form.get("metadata");
  if (meta !== null) {
    try {
      metadata = JSON.parse(typeof meta === "string" ? meta : await meta.text()) as Record<string, unknown>;
    } catch {
      return json(422, { title: "Invalid request", detail: "- metadata: must be valid JSON\n", status: 422, invalid_fields: [{ type: "invalid_type", field: "metadata", description: "must be valid JSON" }] });
    }
  }
  const filenameField = form.get("filename");
  const name = typeof filenameField === "string" ? filenameField : content instanceof File ? content.name : "file";
  const typeField = form.get("type");
  const now = state.now();
  const file: StoredFile = {
    id: state.newId(),
    name,
    contentType: typeof typeField === "string" ? typeField : content.type || "application/octet-stream",
    bytes,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    md5: createHash("md5").update(bytes).digest("hex"),
    metadata,
    createdAt: now,
    // The spec example shows one hour; the README says 24 h. We use 24 h.
    expiresAt: now + 24 * 3600_000,
  };
  state.files.set(file.id, file);
  ctx.created(file.id);
  return json(201, renderFile(ctx, file));
}

export function getFile(ctx: RouteContext, id: string): Answer {
  const f = ctx.state.files.get(id);
  return f ? json(200, renderFile(ctx, f)) : problem(404, "File not found", {}, "application/problem+json");
}

export function deleteFile(ctx: RouteContext, id: string): Answer {
  if (!ctx.state.files.delete(id)) return problem(404, "File not found", {}, "application/problem+json");
  return { status: 204 };
}

export function listFiles(ctx: RouteContext): Answer {
  const files = [...ctx.state.files.values()].reverse().map((f) => renderFile(ctx, f));
  return json(200, { next: null, previous: null, results: files });
}

/** GET /delivery/...: public output files, gone after retention (2.4). */
export async function deliver(ctx: RouteContext, path: string): Promise<Answer> {
  const item = ctx.state.delivered.get(path);
  if (!item || ctx.state.now() >= item.completedAt + ctx.state.retentionMs) return { status: 404, raw: Buffer.from("Not Found"), contentType: "text/plain" };
  if (item.kind === "tar") return { status: 200, raw: item.bytes, contentType: "application/x-tar" };
  const { bytes, contentType } = await renderImage(item);
  return { status: 200, raw: bytes, contentType };
}
