/** Small HTTP helpers for the Replicate emulator: bodies, JSON answers, problem details. */
import type { IncomingMessage, ServerResponse } from "node:http";

export async function readBody(req: IncomingMessage, limit = 512 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** RFC 3339 with microseconds and Z, like Replicate's timestamps (https://replicate.com/docs/reference/http). */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export interface Answer {
  status: number;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
  /** Raw bytes (outputs); `body` is ignored when set. */
  raw?: Buffer;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return { status, body, contentType: "application/json", headers };
}

/** Replicate's problem-details error bodies (replicate/replicate-python replicate/exceptions.py). */
export function problem(status: number, detail: string, extra: Record<string, unknown> = {}, contentType = "application/json"): Answer {
  return { status, body: { detail, status, ...extra }, contentType };
}

export function notFound(detail = "The requested resource could not be found."): Answer {
  return problem(404, detail);
}

export function send(res: ServerResponse, answer: Answer): void {
  const headers: Record<string, string> = { ...answer.headers };
  let payload: Buffer | string | undefined;
  if (answer.raw) {
    payload = answer.raw;
    headers["content-type"] = answer.contentType ?? "application/octet-stream";
  } else if (answer.body !== undefined) {
    payload = JSON.stringify(answer.body);
    headers["content-type"] = answer.contentType ?? "application/json";
  }
  if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers);
  res.end(payload);
}

/** 26 lowercase base32-ish characters, like prediction ids (https://replicate.com/docs/reference/http#predictions.get). */
export function newId(random: () => number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let id = "";
  for (let i = 0; i < 26; i++) id += alphabet[Math.floor(random() * 32)];
  return id;
}

export function newHex(random: () => number, length = 64): string {
  let out = "";
  for (let i = 0; i < length; i++) out += Math.floor(random() * 16).toString(16);
  return out;
}

/** mulberry32: a small seeded PRNG so fault injection is reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
