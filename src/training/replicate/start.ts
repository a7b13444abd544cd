/**
 * Starting (or finding) the one paid training of an identity:
 * account -> trainer version + local validation against its `TrainingInput` (before anything is
 * created or uploaded)
 * -> destination model (created private if missing) -> deterministic zip -> upload -> intent
 * record -> create -> persisted id. The intent record makes a crash between create and persist
 * recoverable by a look-up, never by a second create.
 */
import { join } from "node:path";
import type { ModelVersion, ReplicateSession, Training, Trainings } from "../../replicate/index.js";
import { assertValidInput, canonicalJson, ensureModel, getAccount, getLatestVersion, getVersion, inputKeyFor, uploadFile } from "../../replicate/index.js";
import type { Page } from "../../replicate/types.js";
import type { TrainPlan } from "../plan.js";
import type { TrainEvent } from "../types.js";
import { zipDataset } from "./dataset-zip.js";
import { buildTrainerInput, parseDestination, trainerLabel, type TrainerRef } from "./options.js";
import { writeRemoteState, type RemoteTrainingState } from "./remote-state.js";

/** Files uploaded to Replicate expire after 24 h (https://replicate.com/docs/reference/http#files.create); reuse an earlier upload only well before that. */
const UPLOAD_REUSE_MS = 20 * 3600_000;

export interface StartContext {
  session: ReplicateSession;
  trainings: Trainings;
  plan: TrainPlan;
  trainerRef: TrainerRef;
  destinationFlag: string | undefined;
  onEvent: (event: TrainEvent) => void;
  signal: AbortSignal;
  now: () => Date;
}

const phase = (ctx: StartContext, name: string, message: string): void => ctx.onEvent({ type: "phase", phase: name, message });

/** A training this identity created earlier but never recorded: same trainer model, same input (the zip URL is unique). */
export async function findRecorded(session: ReplicateSession, state: RemoteTrainingState, signal?: AbortSignal): Promise<Training | undefined> {
  const model = `${state.trainer.owner}/${state.trainer.name}`;
  const wanted = canonicalJson(state.input);
  let route: string | URL = "/trainings";
  for (let page = 0; page < 10; page++) {
    const response = await session.replicate.request(route, { method: "GET", ...(signal ? { signal } : {}) });
    const body = (await response.json()) as Page<Training>;
    for (const t of body.results) {
      if (t.model === model && canonicalJson(t.input) === wanted && (t.destination === undefined || t.destination === state.destination)) return t;
      if (Date.parse(t.created_at) < Date.parse(state.intentAt) - 60_000) return undefined; // lists are newest first
    }
    if (!body.next) return undefined;
    route = new URL(body.next);
  }
  return undefined;
}

async function resolveTrainerVersion(ctx: StartContext): Promise<ModelVersion> {
  const { owner, name, version } = ctx.trainerRef;
  return version ? getVersion(ctx.session, owner, name, version, ctx.signal) : getLatestVersion(ctx.session, owner, name, ctx.signal);
}

/**
 * Everything up to and including the create. `prior` is an intent record left by a run that died
 * before the create answered; the caller has already checked that it created nothing.
 */
export async function startTraining(ctx: StartContext, prior: RemoteTrainingState | undefined): Promise<{ training: Training; state: RemoteTrainingState }> {
  const { session, plan, signal } = ctx;
  const trainingDir = plan.paths.trainingFolder;
  const account = await getAccount(session, signal);
  const dest = parseDestination(ctx.destinationFlag, plan.name);
  const destination = `${dest.owner ?? account.username}/${dest.name}`;

  const trainerVersion = await resolveTrainerVersion(ctx);
  const trainer = { owner: ctx.trainerRef.owner, name: ctx.trainerRef.name, version: trainerVersion.id };
  const label = trainerLabel(trainer);
  // A trainer's `Input` is its prediction schema; training inputs live in `TrainingInput`.
  const schema = trainerVersion.openapi_schema;
  const key = inputKeyFor(schema, "train");
  // Validate with a stand-in URL: the real one only exists after the upload we do not want to waste.
  if (schema) assertValidInput(schema, buildTrainerInput(plan, "https://api.replicate.com/v1/files/pending"), label, key);
  const checked = schema ? `inputs match its ${key} schema` : "it publishes no schema, inputs not checked";
  phase(ctx, "trainer", `trainer ${trainerLabel(ctx.trainerRef)} version ${trainer.version.slice(0, 12)}…; ${checked}`);

  const [destOwner, destName] = destination.split("/") as [string, string];
  const { created } = await ensureModel(session, destOwner, destName, {
    visibility: "private",
    description: `headshot identity LoRA "${plan.name}" (trigger ${plan.trigger})`,
    signal,
  });
  phase(ctx, "destination", created ? `created the private model ${destination}` : `destination model ${destination} exists`);

  const zip = await zipDataset(plan.paths.datasetDir, join(trainingDir, "dataset.zip"));
  let upload: RemoteTrainingState["upload"];
  const reusable = prior && prior.upload.sha256 === zip.sha256 && ctx.now().getTime() - Date.parse(prior.intentAt) < UPLOAD_REUSE_MS;
  if (reusable) {
    upload = prior.upload;
    phase(ctx, "upload", `reusing the upload of ${zip.images} images from ${prior.intentAt}`);
  } else {
    phase(ctx, "upload", `uploading ${zip.images} images and ${zip.captions} captions (${(zip.bytes / 1024 / 1024).toFixed(1)} MiB zip)`);
    const file = await uploadFile(session, { path: zip.path, filename: "selfies.zip", contentType: "application/zip", metadata: { headshot: plan.name }, signal });
    upload = { id: file.id, url: file.urls.get, sha256: zip.sha256, bytes: zip.bytes, expiresAt: file.expires_at };
  }
  const input = buildTrainerInput(plan, upload.url);
  if (schema) assertValidInput(schema, input, label, key);

  const state: RemoteTrainingState = { schemaVersion: 1, trainer, destination, input, upload, intentAt: ctx.now().toISOString() };
  await writeRemoteState(trainingDir, state);
  // No signal on the create: a Ctrl-C here would make it ambiguous; it answers in a second.
  const training = await ctx.trainings.create({ trainer, destination, input });
  const recorded: RemoteTrainingState = {
    ...state,
    training: { id: training.id, createdAt: training.created_at, ...(training.urls?.web ? { web: training.urls.web } : {}) },
    status: training.status,
  };
  await writeRemoteState(trainingDir, recorded);
  if (training.version && training.version !== trainer.version) {
    // The API may run the latest trainer version instead of a pinned one (replicate/replicate-python#419).
    phase(ctx, "trainer", `Replicate runs trainer version ${training.version.slice(0, 12)}… (asked for ${trainer.version.slice(0, 12)}…)`);
  }
  return { training, state: recorded };
}
