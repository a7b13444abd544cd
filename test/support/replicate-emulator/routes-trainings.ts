/**
 * Training routes: create against a trainer version with a destination model, inputs checked
 * against the version's `TrainingInput`; on success a new version appears on the destination
 * serving the trainer image's prediction side (`Input`/`Output`) and the training's
 * `output = {version: "owner/name:<hex>", weights: <tar URL>}`
 * (https://replicate.com/docs/reference/http#trainings.create).
 */
import { TRAINED_OUTPUT } from "./catalog.js";
import { json, notFound, problem, type Answer } from "./http.js";
import { render, trainingLogs, type Job } from "./jobs.js";
import { buildWeightsTar } from "./outputs.js";
import { trainedVersionOf } from "./recorded-schemas.js";
import { insufficientCredit } from "./routes-predictions.js";
import type { RouteContext } from "./router.js";
import { invalidInputBody, validateInput } from "./validate.js";

const TRAINING_KEYS = new Set(["destination", "input", "webhook", "webhook_events_filter"]);

/** What the trainer would find at input_images: a zip uploaded to the files API, or another URL. */
function inputImagesProblem(ctx: RouteContext, url: unknown): string | null {
  if (typeof url !== "string") return "input_images is required (a zip of images)";
  const m = url.match(/\/v1\/files\/([a-z0-9]+)$/);
  if (m && url.startsWith(ctx.state.origin)) {
    const file = ctx.state.files.get(m[1] ?? "");
    if (!file) return `Could not download input_images from ${url}: 404 Not Found`;
    if (file.bytes.subarray(0, 4).toString("latin1") !== "PK\u0003\u0004") return "input_images is not a zip file (zipfile.BadZipFile: File is not a zip file)";
  }
  return null;
}

export async function createTraining(ctx: RouteContext, owner: string, name: string, versionId: string): Promise<Answer> {
  const { state } = ctx;
  const trainer = state.models.get(`${owner}/${name}`);
  const version = trainer?.versions.find((v) => v.id === versionId);
  if (!trainer || !version) return notFound();
  if (!trainer.trainable) return problem(400, `${versionId} is not a trainable model version!`);
  const body = ctx.json;
  if (!body || typeof body !== "object" || Array.isArray(body)) return problem(400, "Request body must be a JSON object.");
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !TRAINING_KEYS.has(k));
  const missing = ["destination", "input"].filter((k) => b[k] === undefined);
  if (extra.length || missing.length) {
    const fields = [
      ...missing.map((k) => ({ type: "required", field: "", description: `${k} is required` })),
      ...extra.map((k) => ({ type: "additional_property_not_allowed", field: "", description: `Additional property ${k} is not allowed` })),
    ];
    return json(422, { title: "Invalid request", detail: fields.map((f) => `- ${f.description}\n`).join(""), status: 422, invalid_fields: fields });
  }
  const destination = state.models.get(String(b.destination));
  if (!destination || destination.owner !== state.account.username) {
    return json(404, { detail: "The specified training destination does not exist", status: 404 });
  }
  const input = b.input as Record<string, unknown>;
  const fields = validateInput(version.openapi_schema, input, "train");
  if (fields.length) return json(422, invalidInputBody(fields));
  if (state.faults.insufficientCredit) return insufficientCredit();

  const now = state.now();
  const steps = typeof input.steps === "number" ? input.steps : 1000;
  const rank = typeof input.lora_rank === "number" ? input.lora_rank : 16;
  const trigger = typeof input.trigger_word === "string" ? input.trigger_word : "TOK";
  const failure = state.faults.trainingError ?? inputImagesProblem(ctx, input.input_images);
  const tar = await buildWeightsTar({ rank: Math.min(rank, 8), triggerWord: trigger, captions: 3 });
  const job: Job = {
    kind: "training",
    id: state.newId(),
    model: `${trainer.owner}/${trainer.name}`,
    // The API may swap in the latest trainer version (replicate-python#419): we report it.
    version: trainer.versions[trainer.versions.length - 1]?.id ?? versionId,
    input,
    createdAt: now,
    startAt: now + Math.round(state.trainingMs * 0.15),
    endAt: now + state.trainingMs,
    outcome: failure ? { status: "failed", error: failure } : { status: "succeeded" },
    logLines: trainingLogs(steps),
    settled: false,
    onSuccess: (j) => {
      const newVersion = state.newHex(64);
      destination.versions.push({ id: newVersion, created_at: j.endAt, cog_version: "0.14.0", openapi_schema: trainedVersionOf(version.openapi_schema) });
      destination.output = TRAINED_OUTPUT;
      const path = `/delivery/yhqm/${state.newHex(32)}/trained_model.tar`;
      state.delivered.set(path, { kind: "tar", bytes: tar, completedAt: j.endAt });
      j.output = { version: `${destination.owner}/${destination.name}:${newVersion}`, weights: `${state.origin}${path}` };
    },
  };
  state.jobs.set(job.id, job);
  state.jobOrder.push(job);
  ctx.created(job.id);
  return json(201, render(job, now, state.baseUrl, state.retentionMs));
}
