/**
 * Which requests may be sent again, and how long to wait first: reads and cancels always; a paid
 * create only when it surely never reached the server (src/replicate/retry-fetch.ts says why).
 */

/** Full-ish jitter: half the exponential step fixed, half random, so retries spread out. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

/** Connection-level errors that prove the request never reached the server. */
export const NOT_SENT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/** The system error code under undici's "fetch failed" TypeError (sometimes an AggregateError). */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const c = current as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof c.code === "string" && c.code !== "ABORT_ERR") return c.code;
    current = c.cause ?? (Array.isArray(c.errors) ? c.errors[0] : undefined);
  }
  return undefined;
}

export function describeNetworkError(error: unknown): string {
  const code = networkErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}` : message;
}

/** POSTs that are safe to repeat: cancelling twice is harmless. */
function isIdempotent(method: string, path: string): boolean {
  if (method === "GET" || method === "HEAD" || method === "QUERY" || method === "OPTIONS") return true;
  return method === "POST" && /\/(predictions|trainings)\/[^/]+\/cancel$/.test(path);
}

/** Creates Replicate bills for: these pass the rate limiter. */
export function isPaidCreate(method: string, path: string): boolean {
  if (method !== "POST") return false;
  return (
    /\/predictions$/.test(path) ||
    /\/versions\/[^/]+\/trainings$/.test(path)
  );
}

function methodOf(input: string | URL | Request, init?: RequestInit): string {
  return (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
}

function urlOf(input: string | URL | Request): URL {
  return new URL(input instanceof Request ? input.url : String(input));
}

function headerValue(init: RequestInit | undefined, name: string): string | undefined {
  const headers = init?.headers;
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (Array.isArray(headers)) return headers.find(([k]) => k.toLowerCase() === name)?.[1];
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? (headers as Record<string, string>)[key] : undefined;
}

/** What one fetch through the wrapper knows for all its attempts. */
export interface RetryCall {
  method: string;
  path: string;
  idempotent: boolean;
  paid: boolean;
  userSignal: AbortSignal | undefined;
  /** `Prefer: wait=N` holds the request open up to N seconds by design (https://replicate.com/docs/reference/http). */
  holdMs: number;
}

export function describeCall(input: string | URL | Request, init: RequestInit | undefined): RetryCall {
  const method = methodOf(input, init);
  const path = urlOf(input).pathname;
  const preferWait = headerValue(init, "prefer")?.match(/^wait(?:=(\d+))?$/);
  return {
    method,
    path,
    idempotent: isIdempotent(method, path),
    paid: isPaidCreate(method, path),
    userSignal: init?.signal ?? undefined,
    holdMs: preferWait ? Number(preferWait[1] ?? 60) * 1000 : 0,
  };
}
