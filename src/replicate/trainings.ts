/**
 * Trainings: create (ambiguous-failure safe), poll with progress, cancel, read the result.
 *
 * Flow for `train --backend replicate`:
 *   const account = await getAccount(session);
 *   await ensureModel(session, account.username, "face-lora-jane");          // models.ts
 *   const zip = await uploadFile(session, { path: "photos.zip", contentType: "application/zip" });
 *   const trainer = await getLatestVersion(session, "ostris", "flux-dev-lora-trainer");
 *   const trainings = new Trainings(session);
 *   const created = await trainings.create({ trainer: { owner: "ostris", name: "flux-dev-lora-trainer",
 *     version: trainer.id }, destination: `${account.username}/face-lora-jane`,
 *     input: { input_images: zip.urls.get, trigger_word: "TOK", steps: 1000 } });
 *   // persist created.id, then:
 *   const done = await trainings.wait(created, { signal, intervalMs: 5000, maxIntervalMs: 15000,
 *     onUpdate: (t) => reporter.progress(trainingProgress(t.logs)) });
 *   const result = trainings.assertSucceeded(done); // { version: "owner/name:hex", versionId, weights }
 */
import { InterruptedError, RemoteApiError } from "../errors.js";
import type { ReplicateSession } from "./client.js";
import { isAmbiguousCreate } from "./errors.js";
import { jobFailure, pollUntilTerminal, type PollOptions } from "./poll.js";
import { canonicalJson } from "./predictions.js";
import type { Page, Training } from "./types.js";

export interface CreateTrainingRequest {
  trainer: { owner: string; name: string; version: string };
  /** `owner/name`; the model must exist (404 otherwise: https://replicate.com/docs/reference/http#trainings.create). */
  destination: string;
  input: Record<string, unknown>;
  signal?: AbortSignal;
}

export interface TrainingResult {
  training: Training;
  /** `owner/name:<64-hex>`, ready for `{ version }` in a prediction. */
  version: string;
  versionId: string;
  /** URL of trained_model.tar (may be missing for some private trainings: https://replicate.com/docs/reference/http#trainings.create). */
  weights: string | undefined;
}

export interface TrainingProgress {
  percentage: number;
  current: number;
  total: number;
}

/** The last tqdm line of the logs, e.g. `flux_train_replicate:  12%|█▏   | 120/1000 [...]`. */
export function trainingProgress(logs: string | undefined | null): TrainingProgress | null {
  if (!logs) return null;
  const re = /(\d+)%\|[^|]*\|\s*(\d+)\/(\d+)/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(logs); m; m = re.exec(logs)) last = m;
  if (!last) return null;
  const current = Number(last[2]);
  const total = Number(last[3]);
  return { percentage: total > 0 ? current / total : Number(last[1]) / 100, current, total };
}

export interface TrainingsOptions {
  recoveryDelayMs?: number;
  maxCreateAttempts?: number;
  recoveryWindowMs?: number;
}

export class Trainings {
  private readonly claimed = new Set<string>();

  constructor(
    private readonly session: ReplicateSession,
    private readonly options: TrainingsOptions = {},
  ) {}

  /** Creates a training; after an ambiguous failure it looks for it in `GET /trainings` first. */
  async create(request: CreateTrainingRequest): Promise<Training> {
    const { clock, replicate } = this.session;
    const since = clock.now() - (this.options.recoveryWindowMs ?? 10 * 60_000);
    const inputJson = canonicalJson(request.input);
    const { owner, name, version } = request.trainer;
    let lastError: unknown;
    for (let attempt = 1; attempt <= (this.options.maxCreateAttempts ?? 3); attempt++) {
      try {
        const created = (await replicate.trainings.create(owner, name, version, {
          destination: request.destination as `${string}/${string}`,
          input: request.input,
          ...(request.signal ? { signal: request.signal } : {}),
        })) as unknown as Training;
        this.claimed.add(created.id);
        return created;
      } catch (error) {
        if (!isAmbiguousCreate(error)) throw error;
        lastError = error;
        await clock.sleep(this.options.recoveryDelayMs ?? 2_000, request.signal).catch(() => Promise.reject(new InterruptedError()));
        const found = await this.findCreated(`${owner}/${name}`, inputJson, since, request.signal);
        if (found) {
          this.claimed.add(found.id);
          return found;
        }
      }
    }
    throw lastError;
  }

  private async findCreated(model: string, inputJson: string, since: number, signal?: AbortSignal): Promise<Training | undefined> {
    let route: string | URL = "/trainings";
    for (let page = 0; page < 5; page++) {
      const response = await this.session.replicate.request(route, { method: "GET", ...(signal ? { signal } : {}) });
      const body = (await response.json()) as Page<Training>;
      for (const t of body.results) {
        if (Date.parse(t.created_at) < since) return undefined;
        // The trainer version may be swapped for the latest one (replicate-python#419): match the model.
        if (!this.claimed.has(t.id) && t.model === model && canonicalJson(t.input) === inputJson) return t;
      }
      if (!body.next) return undefined;
      route = new URL(body.next);
    }
    return undefined;
  }

  async get(id: string, signal?: AbortSignal): Promise<Training> {
    return (await this.session.replicate.trainings.get(id, signal ? { signal } : {})) as unknown as Training;
  }

  async cancel(id: string): Promise<Training> {
    return (await this.session.replicate.trainings.cancel(id, { signal: AbortSignal.timeout(15_000) })) as unknown as Training;
  }

  /** Polls until terminal. Defaults suited to trainings: 5 s growing to 15 s, 3 h timeout. */
  wait(training: Training, options: PollOptions<Training> = {}): Promise<Training> {
    return pollUntilTerminal(
      training,
      { kind: "training", get: (id, s) => this.get(id, s), cancel: (id) => this.cancel(id), clock: this.session.clock },
      { intervalMs: 5_000, maxIntervalMs: 15_000, timeoutMs: 3 * 3600_000, ...options },
    );
  }

  assertSucceeded(training: Training): TrainingResult {
    if (training.status !== "succeeded") throw jobFailure(training, "training", this.session.redact);
    const version = training.output?.version;
    if (!version) {
      throw new RemoteApiError(`The training ${training.id} succeeded but returned no model version.`, {
        code: "E_REPLICATE_NO_OUTPUT",
        hint: "Open the training on replicate.com; the destination model's Versions tab may still list it.",
      });
    }
    // `owner/name:hex` per Replicate's own tests; a bare hash is handled too (https://replicate.com/docs/reference/http#trainings.create).
    const versionId = version.includes(":") ? (version.split(":").pop() ?? version) : version;
    return { training, version, versionId, weights: training.output?.weights ?? undefined };
  }
}
