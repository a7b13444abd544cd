/**
 * Predictions: create (without ever paying twice), poll, cancel, and read outputs.
 *
 * Usage (generation builds on this):
 *
 *   const session = createReplicateSession({ env });
 *   const predictions = new Predictions(session);
 *   const { prediction, outputs } = await predictions.run(
 *     { target: { model: "black-forest-labs/flux-dev-lora" }, input: { prompt, lora_weights } },
 *     { signal, onUpdate },
 *   );
 *   for (const [i, url] of outputs.entries()) await downloadOutput(session, url, { dir, name: `img-${i}` });
 *
 * Persist `prediction.id` (from `create`) before waiting, so an interrupted run can resume with
 * `get` + `wait` instead of creating again.
 */
import { InterruptedError, RemoteApiError } from "../errors.js";
import type { ReplicateSession } from "./client.js";
import { isAmbiguousCreate } from "./errors.js";
import { jobFailure, pollUntilTerminal, type PollOptions } from "./poll.js";
import type { Page, Prediction } from "./types.js";

/** What to run: an official model by name, or a version (64-hex id or `owner/name:id`). */
export type PredictionTarget = { model: string } | { version: string };

export interface CreatePredictionRequest {
  target: PredictionTarget;
  /** Plain JSON only: files must already be URLs (files.ts uploads them). */
  input: Record<string, unknown>;
  /**
   * Hold the create request up to N seconds (1..60, `Prefer: wait=N`) so fast models answer in one
   * request. The answer may still be `starting`/`processing` (https://replicate.com/docs/topics/predictions/create-a-prediction): `wait` handles it.
   */
  syncWaitSeconds?: number;
  signal?: AbortSignal;
}

export interface PredictionsOptions {
  /** Pause before looking for a prediction after an ambiguous create failure. Default 2 s. */
  recoveryDelayMs?: number;
  /** Creates attempted in total when each one fails ambiguously and nothing is found. Default 3. */
  maxCreateAttempts?: number;
  /** How far back (before our first attempt) the search looks, for clock skew. Default 10 min. */
  recoveryWindowMs?: number;
  /** Called when a create failed ambiguously and we looked for its prediction. */
  onRecovery?: (event: { found: string | null; attempt: number }) => void;
}

export interface RunResult {
  prediction: Prediction;
  /** Output URLs, normalised from a single string or an array (https://replicate.com/black-forest-labs/flux-2-dev/api). */
  outputs: string[];
}

/** The output URLs of a prediction, whatever its model's output shape. */
export function outputUrls(prediction: Pick<Prediction, "output">): string[] {
  const out = prediction.output;
  if (typeof out === "string") return [out];
  if (Array.isArray(out)) return out.filter((v): v is string => typeof v === "string");
  return [];
}

/** Stable JSON with sorted keys, to compare an input we sent with one the server stored. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function assertPlainJson(value: unknown, path: string): void {
  if (value instanceof Blob || value instanceof Uint8Array || value instanceof ArrayBuffer) {
    // The client would upload it (or worse, data-URI it: replicate/replicate-javascript lib/util.js). Upload explicitly.
    throw new TypeError(`${path} is binary data; upload it with uploadFile() and pass its URL.`);
  }
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) assertPlainJson(v, `${path}.${k}`);
  }
}

/** Does a listed prediction look like the one we tried to create? */
function matches(p: Prediction, target: PredictionTarget, inputJson: string): boolean {
  if ("model" in target) {
    if (p.model !== target.model) return false;
  } else {
    const hex = target.version.includes(":") ? target.version.split(":").pop() : target.version;
    if (p.version !== hex) return false;
  }
  return canonicalJson(p.input) === inputJson;
}

export class Predictions {
  /** Ids this instance created or adopted: never adopted twice by the recovery search. */
  private readonly claimed = new Set<string>();

  constructor(
    private readonly session: ReplicateSession,
    private readonly options: PredictionsOptions = {},
  ) {}

  /**
   * Creates a prediction. A create that failed ambiguously (socket dropped, timeout, 5xx) is
   * looked for in `GET /predictions?created_after=…` (same model/version and the same input,
   * not already claimed) before another create is sent.
   */
  async create(request: CreatePredictionRequest): Promise<Prediction> {
    assertPlainJson(request.input, "input");
    const { clock } = this.session;
    const since = new Date(clock.now() - (this.options.recoveryWindowMs ?? 10 * 60_000));
    const attempts = this.options.maxCreateAttempts ?? 3;
    const inputJson = canonicalJson(request.input);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const prediction = await this.send(request);
        this.claimed.add(prediction.id);
        return prediction;
      } catch (error) {
        if (!isAmbiguousCreate(error)) throw error;
        lastError = error;
        await clock.sleep(this.options.recoveryDelayMs ?? 2_000, request.signal).catch(() => Promise.reject(new InterruptedError()));
        const found = await this.findCreated(request.target, inputJson, since, request.signal);
        this.options.onRecovery?.({ found: found?.id ?? null, attempt });
        if (found) {
          this.claimed.add(found.id);
          return found;
        }
      }
    }
    throw lastError;
  }

  private async send(request: CreatePredictionRequest): Promise<Prediction> {
    const { replicate } = this.session;
    const wait = request.syncWaitSeconds === undefined ? {} : { wait: Math.min(60, Math.max(1, Math.ceil(request.syncWaitSeconds))) };
    const signal = request.signal ? { signal: request.signal } : {};
    const created = "model" in request.target
      ? await replicate.predictions.create({ model: request.target.model, input: request.input, ...wait, ...signal })
      : await replicate.predictions.create({ version: request.target.version, input: request.input, ...wait, ...signal });
    return created as unknown as Prediction;
  }

  private async findCreated(target: PredictionTarget, inputJson: string, since: Date, signal?: AbortSignal): Promise<Prediction | undefined> {
    const { replicate } = this.session;
    let route: string | URL = "/predictions";
    const params: Record<string, string> = { created_after: since.toISOString() };
    // Newest first, 100 per page; a few pages cover any batch headshot sends in ten minutes.
    for (let page = 0; page < 10; page++) {
      const response = await replicate.request(route, { method: "GET", ...(page === 0 ? { params } : {}), ...(signal ? { signal } : {}) });
      const body = (await response.json()) as Page<Prediction>;
      const hit = body.results.find((p) => !this.claimed.has(p.id) && matches(p, target, inputJson));
      if (hit) return hit;
      if (!body.next) return undefined;
      route = new URL(body.next);
    }
    return undefined;
  }

  async get(id: string, signal?: AbortSignal): Promise<Prediction> {
    return (await this.session.replicate.predictions.get(id, signal ? { signal } : {})) as unknown as Prediction;
  }

  async cancel(id: string): Promise<Prediction> {
    // Not tied to the user's signal: this runs precisely when that signal has fired.
    return (await this.session.replicate.predictions.cancel(id, { signal: AbortSignal.timeout(15_000) })) as unknown as Prediction;
  }

  /** Polls until `succeeded | failed | canceled | aborted` and returns that state (never throws for them). */
  wait(prediction: Prediction, options: PollOptions<Prediction> = {}): Promise<Prediction> {
    return pollUntilTerminal(
      prediction,
      { kind: "prediction", get: (id, s) => this.get(id, s), cancel: (id) => this.cancel(id), clock: this.session.clock },
      options,
    );
  }

  /**
   * Throws the typed error for a prediction that did not succeed, or whose outputs are gone
   * (Replicate deletes them after an hour: `data_removed`).
   */
  assertSucceeded(prediction: Prediction): RunResult {
    if (prediction.status !== "succeeded") throw jobFailure(prediction, "prediction", this.session.redact);
    if (prediction.data_removed) throw outputsExpired(prediction);
    const outputs = outputUrls(prediction);
    if (!outputs.length) {
      throw new RemoteApiError(`The prediction ${prediction.id} succeeded without any output.`, {
        code: "E_REPLICATE_NO_OUTPUT",
        hint: "Every image may have been dropped by the safety checker: change the prompt or seed.",
      });
    }
    return { prediction, outputs };
  }

  /** create + wait + assertSucceeded. */
  async run(request: CreatePredictionRequest, options: PollOptions<Prediction> = {}): Promise<RunResult> {
    const created = await this.create(request);
    options.onUpdate?.(created);
    const signal = options.signal ?? request.signal;
    const done = await this.wait(created, { ...options, ...(signal ? { signal } : {}) });
    return this.assertSucceeded(done);
  }
}

/** Outputs deleted by Replicate's data retention (1 hour for API predictions: https://replicate.com/docs/reference/http#predictions.get). */
export function outputsExpired(prediction: Pick<Prediction, "id" | "completed_at">): RemoteApiError {
  const when = prediction.completed_at ? ` (it finished at ${prediction.completed_at})` : "";
  return new RemoteApiError(`The outputs of prediction ${prediction.id} were deleted by Replicate${when}.`, {
    code: "E_REPLICATE_OUTPUT_EXPIRED",
    hint: "Replicate keeps API outputs for one hour only; headshot downloads at once, so re-run the generation to get new images.",
  });
}
