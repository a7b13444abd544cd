/**
 * Builds the `replicate` npm client the way headshot needs it (replicate/replicate-javascript index.js):
 *
 * - `auth` from REPLICATE_API_TOKEN only (never from or to a project file);
 * - `baseUrl` from the option, else REPLICATE_BASE_URL, else https://api.replicate.com/v1;
 * - `userAgent` headshot/<version>;
 * - `useFileOutput: false`: outputs stay URL strings and download.ts fetches them (FileOutput
 *   starts a download per URL at once and hides HTTP errors behind a ReferenceError: 1.7);
 * - `fileEncodingStrategy: "upload"`: never the data-URI fallback (stack overflow from 512 KB,
 *   and "data-uri" sends the client, token included, as input: 1.6). We never pass Blobs in
 *   inputs anyway (files.ts uploads explicitly);
 * - `fetch`: retry-fetch.ts.
 *
 * Everything above HTTP (predictions.ts, trainings.ts, models.ts, files.ts, download.ts) takes the
 * ReplicateSession this returns.
 */
import Replicate from "replicate";
import { UsageError } from "../errors.js";
import { ENV, type Env } from "../settings/settings.js";
import { VERSION } from "../version.js";
import { TOKEN_HINT } from "./errors.js";
import { createRedactor, type Redactor } from "./redact.js";
import { systemClock, type Clock } from "./clock.js";
import { sharedCreateLimiter, type RateLimiter } from "./rate-limiter.js";
import { createRetryFetch, type FetchLike, type RetryEvent, type RetryOptions } from "./retry-fetch.js";

export const DEFAULT_BASE_URL = "https://api.replicate.com/v1";

export interface ReplicateClientOptions {
  /** Where REPLICATE_API_TOKEN and REPLICATE_BASE_URL are read (default process.env). */
  env?: Env;
  /** Overrides REPLICATE_BASE_URL (e.g. settings.replicateBaseUrl from a project config). */
  baseUrl?: string;
  retry?: RetryOptions;
  /** Injected time, so tests of backoff do not wait real seconds. */
  clock?: Clock;
  /** Default: the process-wide limiter of 600 creates/min. */
  limiter?: RateLimiter;
  /** The network underneath (default globalThis.fetch). */
  fetch?: FetchLike;
  /** Called on each retry (for --verbose). */
  onRetry?: (event: RetryEvent) => void;
}

/** What every module above HTTP works with. */
export interface ReplicateSession {
  readonly replicate: Replicate;
  /** The API base, without a trailing slash, e.g. https://api.replicate.com/v1. */
  readonly baseUrl: string;
  readonly clock: Clock;
  /** Removes the token (and token-shaped strings) from text: use it on anything remote. */
  readonly redact: Redactor;
  /** Our fetch for non-API downloads: same retries, no Authorization header, body streamed. */
  readonly downloadFetch: FetchLike;
  readonly retry: RetryOptions;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** Validates a base URL (http or https, no credentials) and drops a trailing slash. */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${ENV.replicateBaseUrl} is not a URL: ${JSON.stringify(raw.slice(0, 100))}.`, {
      code: "E_REPLICATE_BASE_URL",
      hint: `Unset ${ENV.replicateBaseUrl} to use ${DEFAULT_BASE_URL}, or set it to an http(s) URL ending in /v1.`,
    });
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password) {
    throw new UsageError(`${ENV.replicateBaseUrl} must be an http(s) URL without credentials.`, {
      code: "E_REPLICATE_BASE_URL",
      hint: `Example: ${DEFAULT_BASE_URL}. The token goes in ${ENV.replicateToken}, never in the URL.`,
    });
  }
  return url.toString().replace(/\/+$/, "");
}

export function createReplicateSession(options: ReplicateClientOptions = {}): ReplicateSession {
  const env = options.env ?? process.env;
  const token = nonEmpty(env[ENV.replicateToken]);
  if (!token) {
    throw new UsageError(`${ENV.replicateToken} is not set, so headshot cannot use Replicate.`, {
      code: "E_REPLICATE_TOKEN_MISSING",
      hint: TOKEN_HINT,
    });
  }
  const baseUrl = normaliseBaseUrl(nonEmpty(options.baseUrl) ?? nonEmpty(env[ENV.replicateBaseUrl]) ?? DEFAULT_BASE_URL);
  const redact = createRedactor(token);
  const clock = options.clock ?? systemClock;
  const limiter = options.limiter ?? sharedCreateLimiter;
  const retry = options.retry ?? {};
  const common = {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    retry,
    clock,
    limiter,
    redact,
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  };
  const apiFetch = createRetryFetch(common);
  const replicate = new Replicate({
    auth: token,
    baseUrl,
    userAgent: `headshot/${VERSION}`,
    useFileOutput: false,
    fileEncodingStrategy: "upload",
    fetch: apiFetch as typeof fetch,
  });
  // Keep the token out of JSON.stringify / util.inspect of the client and of the session.
  Object.defineProperty(replicate, "auth", { value: token, enumerable: false, writable: true });
  const downloadFetch = createRetryFetch({ ...common, bufferBody: false });
  const session = { baseUrl, clock, redact, downloadFetch, retry } as ReplicateSession;
  Object.defineProperty(session, "replicate", { value: replicate, enumerable: false });
  return session;
}
