/**
 * Downloads of prediction and training outputs: streamed to a temp file next to the target,
 * checked (content type, magic bytes, size), hashed (sha256), fsynced and renamed into place.
 *
 * - Download at once: Replicate deletes API outputs after one hour (https://replicate.com/docs/reference/http#predictions.get).
 * - Only https URLs, or URLs on the configured API host (the emulator in tests serves http).
 * - The file name is ours (`name` + an extension from the content type), never the server's.
 * - No Authorization header, except for files-API URLs under the API base (they need it:
 *   2.8); output hosts such as replicate.delivery are public (1.7).
 */
import { createHash } from "node:crypto";
import { open, rename, rm, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { InterruptedError, RemoteApiError, UsageError, isHeadshotError, type ErrorCode } from "../errors.js";
import { tempPathFor } from "../util/atomic-write.js";
import type { ReplicateSession } from "./client.js";
import { backoffDelay } from "./retry-rules.js";

export type ExpectedKind = "image" | "tar" | "any";

export interface DownloadRequest {
  dir: string;
  /** Base name without extension: letters, digits, `.`, `_`, `-`. */
  name: string;
  expect?: ExpectedKind;
  /** Default 64 MiB for images, 2 GiB otherwise. */
  maxBytes?: number;
  signal?: AbortSignal;
  /** The prediction's completed_at, to tell "expired" from "missing" on a 404. */
  completedAt?: string | null;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  bytes: number;
  contentType: string;
}

/** Extensions by content type; anything else is refused for `image`. */
const IMAGE_TYPES: Record<string, string> = {
  "image/webp": ".webp",
  "image/jpeg": ".jpg",
  "image/jpg": ".jpg",
  "image/png": ".png",
};
const TAR_TYPES: Record<string, string> = {
  "application/x-tar": ".tar",
  "application/tar": ".tar",
  "application/octet-stream": ".tar",
};

const RETENTION_MS = 60 * 60_000;

export function magicMatches(kind: ExpectedKind, contentType: string, head: Buffer): boolean {
  if (kind === "image") {
    if (contentType === "image/png") return head.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    if (contentType === "image/jpeg" || contentType === "image/jpg") return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
    if (contentType === "image/webp") return head.toString("latin1", 0, 4) === "RIFF" && head.toString("latin1", 8, 12) === "WEBP";
    return false;
  }
  if (kind === "tar") return head.length >= 262 && head.toString("latin1", 257, 262) === "ustar";
  return true;
}

function downloadError(message: string, hint: string, code: ErrorCode = "E_REPLICATE_DOWNLOAD"): RemoteApiError {
  return new RemoteApiError(message, { code, hint });
}

/** Refuses URLs that are neither https nor on the configured API host. */
export function assertDownloadableUrl(session: Pick<ReplicateSession, "baseUrl">, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw downloadError(`Replicate returned an output that is not a URL: ${JSON.stringify(raw.slice(0, 80))}.`, "Report this as a headshot bug.");
  }
  const apiHost = new URL(session.baseUrl).host;
  const ok = (url.protocol === "https:" || (url.protocol === "http:" && url.host === apiHost)) && !url.username && !url.password;
  if (!ok) {
    throw downloadError(
      `Refusing to download ${url.protocol}//${url.host}${url.pathname}: only https URLs or the API host are allowed.`,
      "If you use an emulator or proxy, point REPLICATE_BASE_URL at its host.",
      "E_REPLICATE_UNSAFE_URL",
    );
  }
  return url;
}

/**
 * Downloads one output. A connection cut mid-body is retried from the start (the HTTP status
 * errors are already retried by the session's download fetch).
 */
export async function downloadOutput(session: ReplicateSession, rawUrl: string, request: DownloadRequest): Promise<DownloadResult> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await downloadOnce(session, rawUrl, request);
    } catch (error) {
      if (isHeadshotError(error) || request.signal?.aborted || attempt >= 3) {
        if (!isHeadshotError(error) && request.signal?.aborted) throw new InterruptedError();
        if (!isHeadshotError(error)) {
          throw downloadError(`Downloading ${new URL(rawUrl).pathname} failed: ${session.redact(String((error as Error).message ?? error))}.`, "Check your connection and re-run.");
        }
        throw error;
      }
      await session.clock.sleep(backoffDelay(attempt, session.retry.baseDelayMs ?? 500, 10_000, Math.random), request.signal).catch(() => Promise.reject(new InterruptedError()));
    }
  }
}

async function downloadOnce(session: ReplicateSession, rawUrl: string, request: DownloadRequest): Promise<DownloadResult> {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(request.name) || request.name.length > 200) {
    throw new UsageError(`Invalid output file name ${JSON.stringify(request.name)}.`, { code: "E_OUTPUT_NAME" });
  }
  const url = assertDownloadableUrl(session, rawUrl);
  const kind = request.expect ?? "any";
  const maxBytes = request.maxBytes ?? (kind === "image" ? 64 * 1024 * 1024 : 2 * 1024 * 1024 * 1024);
  const underApi = url.href.startsWith(`${session.baseUrl}/`);
  const headers: Record<string, string> = {};
  if (underApi) headers.Authorization = `Bearer ${(session.replicate as unknown as { auth: string }).auth}`;

  let response: Response;
  try {
    response = await session.downloadFetch(url, { headers, ...(request.signal ? { signal: request.signal } : {}) });
  } catch (error) {
    if (error instanceof RemoteApiError && (error.status === 404 || error.status === 410)) {
      const age = request.completedAt ? session.clock.now() - Date.parse(request.completedAt) : undefined;
      const expired = age !== undefined && age >= RETENTION_MS;
      throw downloadError(
        expired
          ? `The output ${url.pathname} has expired: Replicate deletes outputs one hour after the prediction finished (${request.completedAt}).`
          : `The output ${url.pathname} is gone (${error.status}); Replicate deletes outputs one hour after a prediction finishes.`,
        "Re-run the generation; headshot downloads each output as soon as it is ready, so this only happens when a run was resumed too late.",
        "E_REPLICATE_OUTPUT_EXPIRED",
      );
    }
    throw error;
  }

  const contentType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const table = kind === "image" ? IMAGE_TYPES : kind === "tar" ? TAR_TYPES : undefined;
  const ext = table ? table[contentType] : (IMAGE_TYPES[contentType] ?? TAR_TYPES[contentType] ?? "");
  if (ext === undefined) {
    await response.body?.cancel().catch(() => undefined);
    throw downloadError(`Unexpected content type ${JSON.stringify(contentType)} for ${url.pathname} (expected ${kind}).`, "Replicate or a proxy served something else; retry later.");
  }
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw downloadError(`${url.pathname} is ${declared} bytes, over the ${maxBytes}-byte limit.`, "This output is larger than expected; nothing was written.");
  }

  await mkdir(request.dir, { recursive: true });
  const target = join(request.dir, `${request.name}${ext}`);
  const temp = tempPathFor(target);
  const handle = await open(temp, "w");
  const hash = createHash("sha256");
  let bytes = 0;
  let head = Buffer.alloc(0);
  try {
    if (!response.body) throw downloadError(`Empty answer for ${url.pathname}.`, "Retry later.");
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      if (bytes > maxBytes) throw downloadError(`${url.pathname} exceeded the ${maxBytes}-byte limit while downloading.`, "Nothing was written.");
      if (head.length < 512) head = Buffer.concat([head, Buffer.from(chunk.subarray(0, 512 - head.length))]);
      hash.update(chunk);
      await handle.write(chunk);
    }
    if (Number.isFinite(declared) && declared !== bytes) {
      throw downloadError(`${url.pathname} was cut short (${bytes} of ${declared} bytes).`, "The connection dropped; retry.");
    }
    if (bytes === 0) throw downloadError(`${url.pathname} is empty.`, "Retry later.");
    if (!magicMatches(kind, contentType, head)) {
      throw downloadError(`${url.pathname} is labelled ${contentType} but its bytes are not a ${kind === "tar" ? "tar archive" : contentType} file.`, "Replicate or a proxy served something else; retry later.");
    }
    await handle.sync();
    await handle.close();
    await rename(temp, target);
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw error;
  }
  return { path: target, sha256: hash.digest("hex"), bytes, contentType };
}
