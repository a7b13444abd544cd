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
 *
 * Which requests are repeated and the backoff: retry-rules.ts; the paid-create limit:
 * rate-limiter.ts; time: clock.ts.
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
import { systemClock, type Clock } from "./clock.js";
import { sharedCreateLimiter, type RateLimiter } from "./rate-limiter.js";
import type { Redactor } from "./redact.js";
import { redactTokenShapes } from "./redact.js";
import { backoffDelay, describeCall, describeNetworkError, networkErrorCode, NOT_SENT_CODES, type RetryCall } from "./retry-rules.js";

export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

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
