/** Prediction routes: both create routes, Prefer: wait, get, list, cancel (https://replicate.com/docs/reference/http; https://replicate.com/docs/topics/predictions/lifecycle). */
import { TRAINED_OUTPUT, type ModelRecord, type VersionRecord } from "./catalog.js";
import { json, notFound, problem, type Answer } from "./http.js";
import { isTerminal, parseCancelAfter, predictionLogs, render, stateAt, type Job } from "./jobs.js";
import { imageSize } from "./outputs.js";
import type { RouteContext } from "./router.js";
import type { EmulatorState } from "./state.js";
import { invalidInputBody, validateInput } from "./validate.js";

const PREDICTION_KEYS = new Set(["version", "input", "webhook", "webhook_events_filter", "stream"]);
const MODEL_PREDICTION_KEYS = new Set(["input", "webhook", "webhook_events_filter", "stream"]);

function unknownKeys(body: Record<string, unknown>, allowed: Set<string>): Answer | undefined {
  const extra = Object.keys(body).filter((k) => !allowed.has(k));
  if (!extra.length) return undefined;
  const fields = extra.map((k) => ({ type: "additional_property_not_allowed", field: "", description: `Additional property ${k} is not allowed` }));
  return json(422, { title: "Invalid request", detail: fields.map((f) => `- ${f.description}\n`).join(""), status: 422, invalid_fields: fields });
}

function invalidVersion(): Answer {
  return json(422, {
    title: "Invalid version or not permitted",
    detail: "The specified version does not exist (or perhaps you don't have permission to use it?)",
    status: 422,
  });
}

/** A LoRA named `owner/name` must exist with a version, else the run fails like cog-flux would. */
function loraProblem(state: EmulatorState, input: Record<string, unknown>): string | null {
  const ref = input.lora_weights;
  if (typeof ref !== "string") return null;
  const m = ref.match(/^([\w-]+)\/([\w.-]+)(?:\/([0-9a-f]{64}))?$/);
  if (!m) return null;
  const model = state.models.get(`${m[1]}/${m[2]}`);
  if (!model || !model.versions.length) return `Failed to load LoRA weights from ${ref}: model not found or has no versions`;
  return null;
}

function createJob(state: EmulatorState, model: ModelRecord, version: VersionRecord, input: Record<string, unknown>, cancelAfterMs?: number): Job {
  const now = state.now();
  const spec = model.output ?? TRAINED_OUTPUT;
  const modelName = `${model.owner}/${model.name}`;
  const seed = typeof input.seed === "number" ? input.seed : Math.floor(state.random() * 65535);
  const steps = typeof input.num_inference_steps === "number" ? input.num_inference_steps : 28;
  const faults = state.faults;
  let outcome: Job["outcome"] = { status: "succeeded" };
  const failure = faults.failPrediction?.(input, modelName) ?? loraProblem(state, input);
  const requested = spec.countField && typeof input[spec.countField] === "number" ? (input[spec.countField] as number) : 1;
  const flagged = faults.nsfw?.(input, modelName) ?? false;
  const dropped = flagged === true ? requested : typeof flagged === "number" ? Math.min(requested, flagged) : 0;
  if (faults.abortPrediction?.(input)) outcome = { status: "aborted" };
  else if (failure) outcome = { status: "failed", error: failure };
  else if (dropped >= requested) outcome = { status: "failed", error: spec.nsfwError };
  const startAt = now + Math.round(state.latencyMs * state.startingFraction);
  const job: Job = {
    kind: "prediction",
    id: state.newId(),
    model: modelName,
    version: model.is_official ? "hidden" : version.id,
    input,
    createdAt: now,
    startAt,
    endAt: now + state.latencyMs,
    outcome,
    ...(cancelAfterMs !== undefined ? { deadline: now + cancelAfterMs } : {}),
    logLines: predictionLogs(seed, steps),
    settled: false,
    outputSpec: spec,
    onSuccess: (j) => {
      const format = (typeof input[spec.formatField] === "string" ? input[spec.formatField] : spec.defaultFormat) as "webp" | "jpg" | "png";
      const { width, height } = imageSize(input.aspect_ratio, state.imageLongSide);
      const urls: string[] = [];
      const folder = state.newHex(32);
      for (let i = 0; i < requested - dropped; i++) {
        const path = `/delivery/xezq/${folder}/out-${i}.${format}`;
        state.delivered.set(path, { kind: "image", seed, index: i, format, width, height, completedAt: j.endAt, source: state.outputImage?.(input, i) });
        urls.push(`${state.origin}${path}`);
      }
      j.output = spec.shape === "single" ? urls[0] : urls;
    },
  };
  state.jobs.set(job.id, job);
  state.jobOrder.push(job);
  model.run_count++;
  return job;
}

/**
 * `Prefer: wait` / `wait=N` holds the answer until terminal or N seconds (2.3). The spec's pattern
 * `^wait(=([1-9]|[1-9][0-9]|60))?$` in fact admits 1..99; the hold is capped at 60 s.
 */
function parsePrefer(value: string | undefined): number | undefined | "invalid" {
  if (value === undefined) return undefined;
  const m = value.trim().match(/^wait(?:=([1-9]|[1-9][0-9]|60))?$/);
  if (!m) return "invalid";
  return Math.min(60, Number(m[1] ?? 60));
}

async function answerCreated(ctx: RouteContext, job: Job, waitSeconds: number | undefined): Promise<Answer> {
  const { state } = ctx;
  if (waitSeconds !== undefined) {
    const until = state.now() + waitSeconds * state.preferWaitUnitMs;
    while (!isTerminal(stateAt(job, state.now()).status) && state.now() < until && !ctx.closed()) {
      await new Promise((r) => setTimeout(r, Math.min(25, Math.max(1, until - state.now()))));
    }
  }
  const body = render(job, state.now(), state.baseUrl, state.retentionMs);
  // Choice: 202 ("created but does not yet have all outputs") when a sync wait ends early.
  const status = waitSeconds !== undefined && !isTerminal(body.status as Job["outcome"]["status"]) ? 202 : 201;
  return json(status, body, waitSeconds !== undefined && status === 202 ? { location: String((body.urls as { get: string }).get) } : {});
}

export async function createPrediction(ctx: RouteContext, route: { owner: string; name: string } | null): Promise<Answer> {
  const { state } = ctx;
  const body = ctx.json;
  if (!body || typeof body !== "object" || Array.isArray(body)) return problem(400, "Request body must be a JSON object.");
  const b = body as Record<string, unknown>;
  const bad = unknownKeys(b, route ? MODEL_PREDICTION_KEYS : PREDICTION_KEYS);
  if (bad) return bad;
  const wait = parsePrefer(ctx.header("prefer"));
  if (wait === "invalid") return problem(400, "Invalid Prefer header: expected wait or wait=N with N from 1 to 60.");
  const required = route ? ["input"] : ["version", "input"];
  const missing = required.filter((k) => b[k] === undefined);
  if (missing.length) {
    const fields = missing.map((k) => ({ type: "required", field: "", description: `${k} is required` }));
    return json(422, { title: "Invalid request", detail: fields.map((f) => `- ${f.description}\n`).join(""), status: 422, invalid_fields: fields });
  }
  if (typeof b.input !== "object" || b.input === null || Array.isArray(b.input)) {
    return json(422, invalidInputBody([{ type: "invalid_type", field: "input", description: "Invalid type. Expected: object, given: " + typeof b.input }]));
  }
  let model: ModelRecord | undefined;
  let version: VersionRecord | undefined;
  if (route) {
    model = state.models.get(`${route.owner}/${route.name}`);
    // Only official models run by name; others need a version (third-party reports: 2.2).
    if (!model || !model.is_official) return notFound();
    version = model.versions[0];
  } else {
    const ref = String(b.version);
    const m = ref.match(/^(?:([\w-]+)\/([\w.-]+)(?::([0-9a-f]{64}))?|([0-9a-f]{64}))$/);
    if (m?.[4] || m?.[3]) {
      const found = state.findVersion((m[4] ?? m[3]) as string);
      if (!found || (m[3] && `${found.model.owner}/${found.model.name}` !== `${m[1]}/${m[2]}`)) return invalidVersion();
      ({ model, version } = found);
    } else if (m?.[1]) {
      model = state.models.get(`${m[1]}/${m[2]}`);
      if (!model?.is_official) return invalidVersion();
      version = model.versions[0];
    } else {
      return invalidVersion();
    }
  }
  if (!model || !version) return invalidVersion();
  if (model.trainable) return problem(422, `${model.owner}/${model.name} is a trainer: create a training instead.`);
  const fields = validateInput(version.openapi_schema, b.input as Record<string, unknown>);
  if (fields.length) return json(422, invalidInputBody(fields));
  if (state.faults.insufficientCredit) return insufficientCredit();
  const job = createJob(state, model, version, b.input as Record<string, unknown>, parseCancelAfter(ctx.header("cancel-after")));
  ctx.created(job.id);
  return answerCreated(ctx, job, wait);
}

export function insufficientCredit(): Answer {
  return json(402, {
    title: "Insufficient credit",
    detail:
      "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit. Once you purchase credit, please wait a few minutes before trying again.",
    status: 402,
  });
}

export function getJob(ctx: RouteContext, id: string, kind: Job["kind"]): Answer {
  const job = ctx.state.jobs.get(id);
  // Trainings share the prediction id space (2.6): a training is served at both paths.
  if (!job || (kind === "training" && job.kind !== "training")) return notFound();
  return json(200, render(job, ctx.state.now(), ctx.state.baseUrl, ctx.state.retentionMs));
}

export function cancelJob(ctx: RouteContext, id: string, kind: Job["kind"]): Answer {
  const { state } = ctx;
  const job = state.jobs.get(id);
  if (!job || (kind === "training" && job.kind !== "training")) return notFound();
  const now = state.now();
  // Cancelling a finished job leaves it unchanged (2.5).
  if (!isTerminal(stateAt(job, now).status)) job.canceledAt = now;
  return json(200, render(job, now, state.baseUrl, state.retentionMs));
}

/** Newest first, `created_after` / `created_before` filters, cursor pagination with absolute `next`. */
export function listJobs(ctx: RouteContext, kind: Job["kind"]): Answer {
  const { state, query } = ctx;
  const after = query.get("created_after");
  const before = query.get("created_before");
  const afterMs = after ? Date.parse(after) : undefined;
  const beforeMs = before ? Date.parse(before) : undefined;
  if ((after && Number.isNaN(afterMs)) || (before && Number.isNaN(beforeMs))) return problem(400, "created_after and created_before must be ISO 8601 date-times.");
  const all = state.jobOrder
    .filter((j) => j.kind === kind)
    .filter((j) => (afterMs === undefined || j.createdAt >= afterMs) && (beforeMs === undefined || j.createdAt < beforeMs))
    .reverse();
  const cursor = Number(query.get("cursor") ?? 0) || 0;
  const page = all.slice(cursor, cursor + state.pageSize);
  const nextParams = new URLSearchParams(query);
  nextParams.set("cursor", String(cursor + state.pageSize));
  const collection = kind === "prediction" ? "predictions" : "trainings";
  const prevParams = new URLSearchParams(query);
  prevParams.set("cursor", String(Math.max(0, cursor - state.pageSize)));
  return json(200, {
    next: cursor + state.pageSize < all.length ? `${state.baseUrl}/${collection}?${nextParams}` : null,
    previous: cursor > 0 ? `${state.baseUrl}/${collection}?${prevParams}` : null,
    results: page.map((j) => render(j, state.now(), state.baseUrl, state.retentionMs)),
  });
}
