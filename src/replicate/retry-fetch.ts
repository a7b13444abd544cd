/**
 * The `fetch` we hand to the `replicate` client: it adds what the client lacks (replicate/replicate-javascript lib/util.js).
 *
 * - Exponential backoff with jitter for 429 and 5xx, honouring `Retry-After` (seconds or a date)
 *   and the "resets in ~Ns" text of 429 bodies. The client's own retry loop sleeps NaN ms and
 *   ignores Retry-After (1.3, measured: 6 POSTs in ~40 ms).
 * - Reads (GET, QUERY, and the idempotent cancel POSTs) are retried on 5xx and network errors.
 * - A create (any other POST) is retried only when it certainly never reached the server
 *   (connection refused, DNS failure) or was refused with 429. Any other failure of a create
 *   (socket dropped, timeout, 5xx) throws AmbiguousCreateError so the caller can look for the
 *   object it may have created instead of paying twice (the client re-sends POSTs on network
 *   errors: 1.3).
 * - Paid creates (predictions, trainings) pass a global rate limiter: https://replicate.com/docs/topics/predictions/rate-limits.
 * - Every non-2xx answer becomes a typed RemoteApiError here (errors.ts), so the client's
 *   untyped ApiError (with its consumed body) is never built.
 *
 * How this coexists with the client's retry loop (lib/util.js `withAutomaticRetries`): it calls
 * our fetch again with the *same* `init` object after anything we throw, up to 5 more times.
 * We remember our final error per `init` object and throw it again at once without touching the
 * network, so each logical request costs only the attempts we decided on. The tests count
 * requests against the emulator to catch a change in that client behaviour.
 */
import { InterruptedError } from "../errors.js";
import {
  AmbiguousCreateError,
  errorFromResponse,
  networkError,
  parseProblem,
  parseResetsIn,
  parseRetryAfter,
} from "./errors.js";
import type { Redactor } from "./redact.js";
import { redactTokenShapes } from "./redact.js";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export interface Clock {
  now(): number;
  /** Resolves after `ms`, rejects with an AbortError when `signal` fires first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException("Aborted", "AbortError"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new DOMException("Aborted", "AbortError"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export const systemClock: Clock = { now: () => Date.now(), sleep: abortableSleep };

export interface RetryOptions {
  /** Tries per request, the first included. Default 6. */
  maxAttempts?: number;
  /** First backoff step; doubles per attempt. Default 500 ms. */
  baseDelayMs?: number;
  /** Cap of one backoff step. Default 20 s. */
  maxDelayMs?: number;
  /** A Retry-After longer than this fails at once (with the wait in the error). Default 120 s. */
  maxRetryAfterMs?: number;
  /** Per attempt; a `Prefer: wait=N` create adds N seconds. Default 120 s. */
  requestTimeoutMs?: number;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

const DEFAULT_RETRY: Required<Omit<RetryOptions, "random">> = {
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 120_000,
  requestTimeoutMs: 120_000,
};

/** Reported for every retry so --verbose can show what is going on. Never contains the token. */
export interface RetryEvent {
  type: "retry";
  method: string;
  path: string;
  attempt: number;
  delayMs: number;
  reason: string;
  status?: number;
}

/**
 * At most `limit` paid creates in any `windowMs` (Replicate: 600 prediction creates per minute).
 * One instance per process is shared by every client (`sharedCreateLimiter`), so two batches in
 * one process cannot add up past the limit. A 429 pauses all creates for its Retry-After.
 */
export class RateLimiter {
  private stamps: number[] = [];
  private pausedUntil = 0;
  constructor(
    readonly limit = 600,
    readonly windowMs = 60_000,
    private readonly clock: Clock = systemClock,
  ) {}

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.stamps = this.stamps.filter((t) => t > now - this.windowMs);
      let waitMs = this.pausedUntil - now;
      if (waitMs <= 0 && this.stamps.length < this.limit) {
        this.stamps.push(now);
        return;
      }
      if (waitMs <= 0) waitMs = (this.stamps[0] ?? now) + this.windowMs - now;
      await this.clock.sleep(Math.max(1, waitMs), signal);
    }
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }
}

export const sharedCreateLimiter = new RateLimiter();

/** Full-ish jitter: half the exponential step fixed, half random, so retries spread out. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

/** Connection-level errors that prove the request never reached the server. */
const NOT_SENT_CODES = new Set([
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

function describeNetworkError(error: unknown): string {
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

export interface RetryFetchOptions {
  fetch?: FetchLike;
  retry?: RetryOptions;
  clock?: Clock;
  limiter?: RateLimiter;
  redact?: Redactor;
  onRetry?: (event: RetryEvent) => void;
  /**
   * Buffer the whole body of a 2xx answer before returning it (default true), so a connection cut
   * while reading an API answer is handled here like any other network error. Downloads set it to
   * false and stream.
   */
  bufferBody?: boolean;
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
interface RetryCall {
  method: string;
  path: string;
  idempotent: boolean;
  paid: boolean;
  userSignal: AbortSignal | undefined;
  /** `Prefer: wait=N` holds the request open up to N seconds by design (https://replicate.com/docs/reference/http). */
  holdMs: number;
}

interface RetryConfig {
  baseFetch: FetchLike;
  retry: Required<Omit<RetryOptions, "random">>;
  random: () => number;
  clock: Clock;
  limiter: RateLimiter;
  redact: Redactor;
  bufferBody: boolean;
  onRetry: ((event: RetryEvent) => void) | undefined;
}

function describeCall(input: string | URL | Request, init: RequestInit | undefined): RetryCall {
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

export function createRetryFetch(options: RetryFetchOptions = {}): FetchLike {
  const cfg: RetryConfig = {
    baseFetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    retry: { ...DEFAULT_RETRY, ...options.retry },
    random: options.retry?.random ?? Math.random,
    clock: options.clock ?? systemClock,
    limiter: options.limiter ?? sharedCreateLimiter,
    redact: options.redact ?? redactTokenShapes,
    bufferBody: options.bufferBody ?? true,
    onRetry: options.onRetry,
  };
  const finalErrors = new WeakMap<object, unknown>();
  return async (input, init) => {
    // The replicate client calls us again with the same init after anything we throw (see above).
    if (init && finalErrors.has(init)) throw finalErrors.get(init);
    try {
      return await attemptLoop(cfg, input, init);
    } catch (error) {
      if (init) finalErrors.set(init, error);
      throw error;
    }
  };
}

async function attemptLoop(cfg: RetryConfig, input: string | URL | Request, init: RequestInit | undefined): Promise<Response> {
  const call = describeCall(input, init);
  for (let attempt = 1; ; attempt++) {
    if (call.userSignal?.aborted) throw new InterruptedError();
    if (call.paid) await cfg.limiter.acquire(call.userSignal).catch(() => Promise.reject(new InterruptedError()));
    const sent = await sendOnce(cfg, call, input, init);
    if ("error" in sent) {
      await afterNetworkError(cfg, call, attempt, sent);
      continue;
    }
    const { response, body } = sent;
    if (response.ok) {
      // 204/205 carry no body, and the Response constructor refuses one (files.delete: 204).
      if (response.status === 204 || response.status === 205) return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
      return body === undefined
        ? response
        : new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    await afterErrorStatus(cfg, call, attempt, response);
  }
}

type Sent = { response: Response; body: ArrayBuffer | undefined } | { error: unknown; timedOut: boolean };

/** One request. Times out the answer (headers, and the body when buffered); a streamed download is not cut off once its headers arrived, however long the body takes. */
async function sendOnce(cfg: RetryConfig, call: RetryCall, input: string | URL | Request, init: RequestInit | undefined): Promise<Sent> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new DOMException("timeout", "TimeoutError")), cfg.retry.requestTimeoutMs + call.holdMs);
  const signal = call.userSignal ? AbortSignal.any([call.userSignal, timeout.signal]) : timeout.signal;
  try {
    const response = await cfg.baseFetch(input, { ...init, signal });
    const body = response.ok && cfg.bufferBody ? await response.arrayBuffer() : undefined;
    clearTimeout(timer);
    return { response, body };
  } catch (error) {
    clearTimeout(timer);
    if (call.userSignal?.aborted) throw new InterruptedError();
    return { error, timedOut: timeout.signal.aborted };
  }
}

/** A request that got no answer: retried when it was idempotent or surely never sent; else throws. */
async function afterNetworkError(cfg: RetryConfig, call: RetryCall, attempt: number, sent: { error: unknown; timedOut: boolean }): Promise<void> {
  const { method, path } = call;
  const code = networkErrorCode(sent.error);
  const cause = sent.timedOut ? `no answer within ${Math.round((cfg.retry.requestTimeoutMs + call.holdMs) / 1000)} s (timeout)` : describeNetworkError(sent.error);
  const retryable = call.idempotent || (code !== undefined && NOT_SENT_CODES.has(code));
  if (!retryable) throw new AmbiguousCreateError(method, path, `the connection failed (${cause})`);
  if (attempt >= cfg.retry.maxAttempts) throw networkError(method, path, cause, attempt);
  const delayMs = backoffDelay(attempt, cfg.retry.baseDelayMs, cfg.retry.maxDelayMs, cfg.random);
  cfg.onRetry?.({ type: "retry", method, path, attempt, delayMs, reason: cfg.redact(cause) });
  await sleepOrInterrupt(cfg, delayMs, call.userSignal);
}

/** A non-2xx answer: throttling and (idempotent) server errors wait and return; the rest throw. */
async function afterErrorStatus(cfg: RetryConfig, call: RetryCall, attempt: number, response: Response): Promise<void> {
  const { method, path, idempotent, paid } = call;
  const { retry, redact } = cfg;
  const bodyText = await response.text().catch(() => "");
  const status = response.status;
  if (status === 429 || (status >= 500 && idempotent)) {
    const problem = parseProblem(bodyText);
    const hinted = parseRetryAfter(response.headers.get("retry-after"), cfg.clock.now()) ?? (status === 429 ? parseResetsIn(problem.detail) : undefined);
    const backoff = backoffDelay(attempt, retry.baseDelayMs, retry.maxDelayMs, cfg.random);
    const delayMs = Math.max(hinted ?? 0, backoff);
    const tooLong = hinted !== undefined && hinted > retry.maxRetryAfterMs;
    if (attempt >= retry.maxAttempts || tooLong) {
      throw errorFromResponse({ status, bodyText, method, path, attempts: attempt, redact, ...(hinted !== undefined ? { retryAfterMs: hinted } : {}) });
    }
    if (status === 429 && paid && hinted !== undefined) cfg.limiter.pause(hinted);
    cfg.onRetry?.({ type: "retry", method, path, attempt, delayMs, status, reason: status === 429 ? "throttled" : `server error ${status}` });
    await sleepOrInterrupt(cfg, delayMs, call.userSignal);
    return;
  }
  if (status >= 500 && !idempotent) {
    throw new AmbiguousCreateError(method, path, `the server answered ${status}`, status);
  }
  throw errorFromResponse({ status, bodyText, method, path, attempts: attempt, redact });
}

async function sleepOrInterrupt(cfg: RetryConfig, ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await cfg.clock.sleep(ms, signal);
  } catch {
    throw new InterruptedError();
  }
}
