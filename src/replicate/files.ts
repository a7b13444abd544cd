/**
 * Uploads through Replicate's files API (`POST /v1/files`, multipart), with the size checked
 * before anything is sent.
 *
 * Never the client's automatic conversion of Blob inputs: its fallback encodes data URIs that
 * overflow the stack from ~512 KB and are capped at 10 MB (replicate/replicate-javascript lib/util.js). Pass the returned
 * `urls.get` as the model input (e.g. `input_images` of a training).
 */
import { createHash } from "node:crypto";
import { openAsBlob } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { RemoteApiError, UsageError } from "../errors.js";
import { sha256File } from "../util/hash-file.js";
import type { ReplicateSession } from "./client.js";
import { isAmbiguousCreate } from "./errors.js";
import type { Page } from "./types.js";

/** Replicate refuses files of 100 MiB and more with 413 (https://replicate.com/docs/reference/http#files.create, replicate/replicate-javascript#286). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;

export interface RemoteFile {
  id: string;
  content_type: string;
  size: number;
  checksums: { sha256?: string };
  metadata: Record<string, unknown>;
  created_at: string;
  expires_at: string | null;
  urls: { get: string };
}

export interface UploadRequest {
  /** A local file (streamed by fetch, never read into memory here) ... */
  path?: string;
  /** ... or bytes already in memory. */
  bytes?: Uint8Array;
  /** Sent as the multipart filename; defaults to the path's base name. */
  filename?: string;
  /** e.g. application/zip. Default application/octet-stream. */
  contentType?: string;
  metadata?: Record<string, unknown>;
  /** Default MAX_UPLOAD_BYTES. */
  maxBytes?: number;
  signal?: AbortSignal;
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export async function uploadFile(session: ReplicateSession, request: UploadRequest): Promise<RemoteFile> {
  if (!request.path === !request.bytes) throw new TypeError("uploadFile needs exactly one of path or bytes.");
  const maxBytes = request.maxBytes ?? MAX_UPLOAD_BYTES;
  const type = request.contentType ?? "application/octet-stream";
  const filename = request.filename ?? (request.path ? basename(request.path) : "upload.bin");
  const size = request.path ? (await stat(request.path)).size : (request.bytes as Uint8Array).byteLength;
  if (size >= maxBytes) {
    throw new UsageError(`${filename} is ${formatMiB(size)}; Replicate accepts uploads under ${formatMiB(maxBytes)}.`, {
      code: "E_REPLICATE_UPLOAD_TOO_LARGE",
      hint: "Use fewer selfies or smaller ones (headshot resizes them when it builds the zip).",
    });
  }
  if (size === 0) {
    throw new UsageError(`${filename} is empty; refusing to upload it.`, { code: "E_REPLICATE_UPLOAD_EMPTY" });
  }
  const blob = request.path ? await openAsBlob(request.path, { type }) : new Blob([new Uint8Array(request.bytes as Uint8Array)], { type });
  const file = new File([blob], filename, { type });
  const sha256 = request.path ? await sha256File(request.path) : createHash("sha256").update(request.bytes as Uint8Array).digest("hex");
  const signal = request.signal ? { signal: request.signal } : {};

  const send = async () => (await session.replicate.files.create(file, request.metadata ?? {}, signal)) as unknown as RemoteFile;
  try {
    return await send();
  } catch (error) {
    if (!isAmbiguousCreate(error)) throw error;
    // The upload may have landed: the file list carries each file's sha256 (2.8).
    const found = await findUploaded(session, sha256, size, request.signal);
    if (found) return found;
    try {
      return await send();
    } catch (again) {
      if (!isAmbiguousCreate(again)) throw again;
      // Uploads are free, so there is nothing to lose by reporting a plain server failure.
      throw new RemoteApiError(`Uploading ${filename} to Replicate failed twice (${again.message})`, {
        code: "E_REPLICATE_UPLOAD_FAILED",
        ...(again.status !== undefined ? { status: again.status } : {}),
        hint: "Replicate's files API is having trouble: retry in a few minutes.",
      });
    }
  }
}

async function findUploaded(session: ReplicateSession, sha256: string, size: number, signal?: AbortSignal): Promise<RemoteFile | undefined> {
  const page = (await session.replicate.files.list(signal ? { signal } : {})) as unknown as Page<RemoteFile>;
  return page.results.find((f) => f.checksums?.sha256 === sha256 && f.size === size);
}
