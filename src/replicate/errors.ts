/**
 * Replicate HTTP failures turned into typed errors with a hint that says what to do.
 *
 * Replicate answers errors with problem-details JSON (`title`, `detail`, `status`, and for 422
 * `invalid_fields`), see reference replicate/replicate-python replicate/exceptions.py. The `replicate` client only wraps them in an
 * untyped ApiError whose body is already consumed (1.3), so our fetch (retry-fetch.ts) maps the
 * response itself, here, before the client ever sees it.
 *
 * Stable codes: E_REPLICATE_401, _402, _404, _413, _422, _429, _5XX, _HTTP (other 4xx),
 * E_REPLICATE_NETWORK, E_REPLICATE_TIMEOUT, E_REPLICATE_AMBIGUOUS_CREATE.
 */
import { RemoteApiError } from "../errors.js";
import type { Redactor } from "./redact.js";

export const TOKEN_HINT =
  "Create a token at https://replicate.com/account/api-tokens, then set it in your shell: " +
  "export REPLICATE_API_TOKEN=r8_... (headshot reads it only from the environment and never stores it).";

export const CREDIT_HINT =
  "Add credit at https://replicate.com/account/billing, wait a few minutes for it to apply, then re-run.";

/** One entry of a 422 `invalid_fields` list. */
export interface InvalidField {
  type: string;
  field: string;
  description: string;
}

/** The parsed problem-details body (every field optional: proxies and 5xx pages send anything). */
export interface ProblemBody {
  title?: string;
  detail?: string;
  status?: number;
  invalid_fields?: InvalidField[];
}

export function parseProblem(text: string): ProblemBody {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const v = value as Record<string, unknown>;
      const fields = Array.isArray(v.invalid_fields)
        ? v.invalid_fields.filter((f): f is InvalidField => !!f && typeof f === "object").map((f) => ({
            type: String(f.type ?? ""),
            field: String(f.field ?? ""),
            description: String(f.description ?? ""),
          }))
        : undefined;
      return {
        ...(typeof v.title === "string" ? { title: v.title } : {}),
        ...(typeof v.detail === "string" ? { detail: v.detail } : {}),
        ...(typeof v.status === "number" ? { status: v.status } : {}),
        ...(fields ? { invalid_fields: fields } : {}),
      };
    }
  } catch {
    // Not JSON (an HTML error page from a proxy): keep a short excerpt as the detail.
  }
  const excerpt = text.trim().slice(0, 200);
  return excerpt ? { detail: excerpt } : {};
}

/** "Your rate limit resets in ~30s." → 30000 ms (replicate/replicate-python replicate/exceptions.py: the only hint some 429s carry). */
export function parseResetsIn(detail: string | undefined): number | undefined {
  const match = detail?.match(/resets in ~?\s*(\d+(?:\.\d+)?)\s*s/i);
  return match?.[1] ? Math.round(Number(match[1]) * 1000) : undefined;
}

/** Retry-After as delay-seconds or an HTTP date, in ms from `nowMs`. */
export function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** What the request was about, so a 404 can say "model x/y" instead of "resource". */
export function describeTarget(method: string, path: string): string {
  const p = path.replace(/^.*?\/v1(?=\/)/, "").replace(/\?.*$/, "");
  let m: RegExpMatchArray | null;
  if ((m = p.match(/^\/models\/([^/]+)\/([^/]+)\/versions\/([^/]+)\/trainings$/))) {
    return `the training of ${m[1]}/${m[2]} (version ${m[3]})`;
  }
  if ((m = p.match(/^\/models\/([^/]+)\/([^/]+)\/versions\/([^/]+)$/))) return `version ${m[3]} of model ${m[1]}/${m[2]}`;
  if ((m = p.match(/^\/models\/([^/]+)\/([^/]+)\/predictions$/))) return `model ${m[1]}/${m[2]}`;
  if ((m = p.match(/^\/models\/([^/]+)\/([^/]+)/))) return `model ${m[1]}/${m[2]}`;
  if ((m = p.match(/^\/predictions\/([^/]+)/))) return `prediction ${m[1]}`;
  if ((m = p.match(/^\/trainings\/([^/]+)/))) return `training ${m[1]}`;
  if ((m = p.match(/^\/files\/([^/]+)/))) return `file ${m[1]}`;
  if (p === "/predictions" && method === "POST") return "the prediction";
  return `${method} ${p}`;
}

export interface HttpFailure {
  status: number;
  bodyText: string;
  method: string;
  /** URL path (with /v1 prefix or not); never includes credentials. */
  path: string;
  attempts: number;
  retryAfterMs?: number;
  redact: Redactor;
}

/** 422: the fields Replicate names (or the lines of its detail), and whether the version is the problem. */
function invalidInputError(problem: ReturnType<typeof parseProblem>, detail: string | undefined, target: string, base: { status: number; retryAfterMs?: number }, redact: Redactor): RemoteApiError {
  const fields = problem.invalid_fields ?? [];
  const details = fields.map((f) => `${f.field || "(request body)"}: ${redact(f.description)}${f.type ? ` [${f.type}]` : ""}`);
  if (!details.length && detail) details.push(...detail.split("\n").map((l) => l.replace(/^-\s*/, "").trim()).filter(Boolean));
  const invalidVersion = /version/i.test(problem.title ?? "") || /version does not exist/i.test(detail ?? "");
  return new RemoteApiError(
    invalidVersion
      ? `Replicate does not know that model version, or you may not use it (422) for ${target}.`
      : `Replicate rejected the input for ${target} (422 ${problem.title ?? "Unprocessable Entity"}).`,
    {
      ...base,
      code: "E_REPLICATE_422",
      details,
      hint: invalidVersion
        ? "Check the version id (64 hex characters) and that your token's account can run it."
        : "Fix the fields listed above; the model's input schema is at https://replicate.com/<owner>/<name>/api.",
    },
  );
}

/** Maps a non-2xx response (after our retries) to a RemoteApiError with a code and a hint. */
export function errorFromResponse(failure: HttpFailure): RemoteApiError {
  const { status, method, path, attempts, redact } = failure;
  const problem = parseProblem(redact(failure.bodyText));
  const detail = problem.detail ? redact(problem.detail).trim() : undefined;
  const target = describeTarget(method, path);
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  const base = { status, ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}) };

  if (status === 401) {
    return new RemoteApiError(`Replicate rejected the API token (401 ${problem.title ?? "Unauthenticated"}: ${detail ?? "no detail"}).`, {
      ...base,
      code: "E_REPLICATE_401",
      hint: TOKEN_HINT,
    });
  }
  if (status === 402) {
    return new RemoteApiError(`Your Replicate account has insufficient credit (402) for ${target}.`, {
      ...base,
      code: "E_REPLICATE_402",
      hint: CREDIT_HINT,
      ...(detail ? { details: [detail] } : {}),
    });
  }
  if (status === 404) {
    return new RemoteApiError(`Replicate could not find ${target} (404${detail ? `: ${detail}` : ""}).`, {
      ...base,
      code: "E_REPLICATE_404",
      hint: /destination/i.test(detail ?? "")
        ? "Create the destination model first (headshot does this for `train --backend replicate`), and check the owner is your account."
        : "Check the model name and version (open https://replicate.com/<owner>/<name>); private models need a token of their owner.",
    });
  }
  if (status === 413) {
    return new RemoteApiError(`The upload is too large for Replicate (413${detail ? `: ${detail}` : ""}).`, {
      ...base,
      code: "E_REPLICATE_413",
      hint: "Replicate's files API accepts files under 100 MiB: use fewer or smaller selfies.",
    });
  }
  if (status === 422) return invalidInputError(problem, detail, target, base, redact);
  if (status === 429) {
    return new RemoteApiError(`Replicate kept throttling requests for ${target} (429${tries}${detail ? `: ${detail}` : ""}).`, {
      ...base,
      code: "E_REPLICATE_429",
      hint:
        "Lower --concurrency or wait a minute. Replicate allows 600 prediction creates/min, and far fewer " +
        "(6/min) while your credit is low: add credit at https://replicate.com/account/billing.",
    });
  }
  if (status >= 500) {
    return new RemoteApiError(`Replicate had a server error (${status}${tries}) for ${target}${detail ? `: ${detail}` : ""}.`, {
      ...base,
      code: "E_REPLICATE_5XX",
      hint: "This is on Replicate's side: retry in a few minutes (status page: https://replicatestatus.com).",
    });
  }
  return new RemoteApiError(`Replicate refused ${target} (${status}${detail ? `: ${detail}` : ""}).`, {
    ...base,
    code: "E_REPLICATE_HTTP",
    hint: "See the detail above; re-run with --verbose for the request log.",
  });
}

/** Network failure (DNS, refused, reset, timeout) after our retries. */
export function networkError(method: string, path: string, cause: string, attempts: number): RemoteApiError {
  const timeout = /timeout|timed out/i.test(cause);
  return new RemoteApiError(
    `Could not reach Replicate for ${describeTarget(method, path)} (${cause}${attempts > 1 ? `, ${attempts} attempts` : ""}).`,
    {
      code: timeout ? "E_REPLICATE_TIMEOUT" : "E_REPLICATE_NETWORK",
      hint: "Check your internet connection (and REPLICATE_BASE_URL if you set it), then re-run.",
    },
  );
}

/**
 * A create (a paid POST) failed in a way that does not tell whether the server acted on it: the
 * socket dropped after the request was sent, the response timed out, or a 5xx came back.
 * predictions.ts and trainings.ts catch it and look for the object before creating another.
 */
export class AmbiguousCreateError extends RemoteApiError {
  readonly ambiguous = true;
  constructor(method: string, path: string, cause: string, status?: number) {
    super(
      `Replicate may or may not have accepted ${describeTarget(method, path)}: ${cause}.`,
      {
        code: "E_REPLICATE_AMBIGUOUS_CREATE",
        ...(status !== undefined ? { status } : {}),
        hint:
          "Check https://replicate.com/predictions (or /trainings) before re-running, so you do not pay twice.",
      },
    );
  }
}

export function isAmbiguousCreate(error: unknown): error is AmbiguousCreateError {
  return error instanceof AmbiguousCreateError;
}
