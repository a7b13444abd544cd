/**
 * `--backend replicate`: the Trainer that trains the identity LoRA with a Replicate trainer
 * (ostris/flux-dev-lora-trainer by default) and keeps a local copy of the result.
 *
 * Paid once, whatever happens (https://replicate.com/docs/reference/http#trainings.create; replicate/replicate-python#419): the training id is persisted before any
 * waiting (remote-state.ts), and a re-run with that record re-attaches to the running training,
 * or finishes a succeeded one, instead of creating another. A failed or cancelled training is
 * reported and needs --restart to pay again. Ctrl-C asks (interactive) or follows
 * --cancel-on-interrupt (CI) whether to cancel it remotely; either way the exit is 130.
 */
import { rm } from "node:fs/promises";
import { InterruptedError, RemoteApiError, UsageError, isHeadshotError } from "../../errors.js";
import { sha256File } from "../../util/hash-file.js";
import {
  canonicalJson,
  createReplicateSession,
  downloadOutput,
  isTerminal,
  trainingProgress,
  Trainings,
  type ReplicateSession,
  type Training,
} from "../../replicate/index.js";
import { TOKEN_HINT } from "../../replicate/errors.js";
import { jobFailure } from "../../replicate/poll.js";
import { ENV, type Env, type GlobalSettings } from "../../settings/settings.js";
import type { TrainPlan } from "../plan.js";
import type { PreflightReport, RemoteTrainingInfo, TrainDescription, TrainEvent, TrainResult, Trainer } from "../types.js";
import { buildTrainerInput, estimateCost, parseDestination, parseTrainerRef, trainerLabel } from "./options.js";
import { readRemoteState, remoteStatePath, writeRemoteState, type RemoteTrainingState } from "./remote-state.js";
import { findRecorded, startTraining } from "./start.js";
import { localCopyOk, paidFailure, remoteInfo, remoteOnly } from "./result.js";
import { extractLora } from "./weights.js";

export const CANCEL_QUESTION = "Cancel the remote training on Replicate? (it is billed while it runs)";

export interface ReplicateTrainerOptions {
  settings: Pick<GlobalSettings, "replicateBaseUrl">;
  env: Env;
  /** --trainer owner/name[:version] */
  trainer?: string | undefined;
  /** --destination [owner/]name */
  destination?: string | undefined;
  cancelOnInterrupt?: boolean;
  /** A person can answer a question (TTY, not CI). */
  interactive?: boolean;
  confirm?: ((question: string) => Promise<boolean>) | undefined;
  /** The command that re-attaches, printed when we stop waiting. */
  resumeCommand?: string;
  now?: () => Date;
}

type Emit = (event: TrainEvent) => void;

function pollInterval(env: Env): number {
  // Replicate trainings take 15-25 min: 5 s growing to 15 s is plenty. The variable lets tests and
  // impatient users poll faster.
  const raw = Number(env.HEADSHOT_REPLICATE_POLL_MS);
  return Number.isFinite(raw) && raw >= 50 ? raw : 5_000;
}

function sameInputs(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (key === "input_images") continue;
    if (canonicalJson(a[key] ?? null) !== canonicalJson(b[key] ?? null)) out.push(`${key} was ${JSON.stringify(a[key])}, now ${JSON.stringify(b[key])}`);
  }
  return out;
}

export class ReplicateTrainer implements Trainer {
  readonly id = "replicate";

  constructor(private readonly options: ReplicateTrainerOptions) {}

  preflight(): Promise<PreflightReport> {
    const token = (this.options.env[ENV.replicateToken] ?? "").trim() !== "";
    const base = this.options.settings.replicateBaseUrl.value ?? "https://api.replicate.com/v1";
    return Promise.resolve({
      ok: token,
      checks: [
        {
          id: "replicate-token",
          ok: token,
          detail: token ? `${ENV.replicateToken} is set` : `${ENV.replicateToken} is not set`,
          ...(token ? {} : { hint: TOKEN_HINT }),
        },
        { id: "replicate-api", ok: true, detail: base },
      ],
    });
  }

  describe(plan: TrainPlan): TrainDescription {
    const ref = parseTrainerRef(this.options.trainer);
    const dest = parseDestination(this.options.destination, plan.name);
    const destination = `${dest.owner ?? "<your account>"}/${dest.name}`;
    const input = buildTrainerInput(plan, "<URL of the uploaded selfies.zip>");
    const estimate = estimateCost(plan.steps);
    const version = ref.version ?? "<latest version, resolved when training starts>";
    const body = { destination, input };
    return {
      files: [{ path: `POST /v1/models/${ref.owner}/${ref.name}/versions/${version}/trainings`, text: JSON.stringify(body, null, 2) }],
      json: { trainer: trainerLabel(ref), destination, input, inputSchema: "TrainingInput", estimate },
      notes: [
        `estimated cost: about $${estimate.usd.toFixed(2)} ($${estimate.lowUsd.toFixed(2)}-$${estimate.highUsd.toFixed(2)}): ${plan.steps} steps x ~${estimate.secondsPerStep} s/step on an H100 at $${estimate.ratePerSecondUsd}/s`,
        `destination ${destination} is created as a private model if missing; the inputs are checked against the trainer version's TrainingInput schema (read live from Replicate when training starts; Input only if the version has no TrainingInput) before anything is uploaded`,
        "billed from the moment the training starts until it ends or is cancelled; uploads, the destination model and downloads are free",
      ],
    };
  }

  async train(plan: TrainPlan, { signal, onEvent }: { signal: AbortSignal; onEvent: Emit }): Promise<TrainResult> {
    const dir = plan.paths.trainingFolder;
    let state = await readRemoteState(dir);
    const ref = parseTrainerRef(this.options.trainer);

    if (state?.lora && (await localCopyOk(state.lora))) {
      const info = remoteInfo(state);
      return { loraPath: state.lora.path, step: plan.steps, alreadyFinished: true, samples: [], ...(info ? { remote: info } : {}) };
    }
    const session = createReplicateSession({
      env: this.options.env,
      ...(this.options.settings.replicateBaseUrl.value ? { baseUrl: this.options.settings.replicateBaseUrl.value } : {}),
      onRetry: (e) => onEvent({ type: "log", stream: "stderr", line: `retrying Replicate request: ${JSON.stringify(e)}` }),
    });
    const trainings = new Trainings(session);
    const now = this.options.now ?? (() => new Date());

    let training: Training | undefined;
    if (state && !state.training) {
      // An intent without an id: we may have died between the create and recording it.
      const found = await findRecorded(session, state, signal);
      if (found) {
        state = { ...state, training: { id: found.id, createdAt: found.created_at, ...(found.urls?.web ? { web: found.urls.web } : {}) }, status: found.status };
        await writeRemoteState(dir, state);
        onEvent({ type: "phase", phase: "attach", message: `found training ${found.id} created by an earlier run (${found.status})` });
      }
    }
    if (state?.training) {
      // Re-attaching to a training started with other inputs would register the wrong LoRA.
      const changed = sameInputs(state.input, buildTrainerInput(plan, state.upload.url));
      const destName = this.options.destination !== undefined ? parseDestination(this.options.destination, plan.name).name : undefined;
      if (destName !== undefined && destName !== state.destination.split("/")[1]) changed.push(`--destination was ${state.destination}`);
      if (changed.length > 0) {
        throw new UsageError(`a Replicate training of "${plan.name}" (${state.training.id}) was started with different inputs`, {
          code: "E_TRAIN_RESUME_MISMATCH",
          details: changed,
          hint: "re-run with the original options to re-attach to it, or add --restart to start (and pay for) a new one",
        });
      }
      training = await trainings.get(state.training.id, signal);
      onEvent({ type: "phase", phase: "attach", message: `re-attached to training ${training.id} (${training.status})${state.training.web ? `: ${state.training.web}` : ""}` });
    }
    if (!training) {
      const started = await startTraining(
        { session, trainings, plan, trainerRef: ref, destinationFlag: this.options.destination, onEvent, signal, now },
        state,
      );
      training = started.training;
      state = started.state;
      onEvent({ type: "start", command: ["replicate", "train", trainerLabel(state.trainer), "->", state.destination] });
      onEvent({ type: "phase", phase: "created", message: `training ${training.id} created${state.training?.web ? `: ${state.training.web}` : ""}` });
    }
    const current = state as RemoteTrainingState;

    if (!isTerminal(training.status)) training = await this.waitFor(trainings, training, current, { signal, onEvent, plan });
    return this.finish(session, trainings, training, current, { signal, onEvent, plan });
  }

  private async waitFor(
    trainings: Trainings,
    training: Training,
    state: RemoteTrainingState,
    { signal, onEvent, plan }: { signal: AbortSignal; onEvent: Emit; plan: TrainPlan },
  ): Promise<Training> {
    const interval = pollInterval(this.options.env);
    const started = Date.now();
    let first: { at: number; step: number } | undefined;
    let status = "";
    const update = (t: Training): void => {
      if (t.status !== status) {
        status = t.status;
        if (t.status === "starting") onEvent({ type: "phase", phase: "starting", message: "waiting for an H100 on Replicate (cold boot can take minutes)" });
        if (t.status === "processing") onEvent({ type: "phase", phase: "processing", message: "training on Replicate" });
      }
      const p = trainingProgress(t.logs);
      if (!p || p.total <= 0) return;
      const at = Date.now();
      if (!first || p.current < first.step) first = { at, step: p.current };
      const secondsPerStep = p.current > first.step ? (at - first.at) / 1000 / (p.current - first.step) : undefined;
      onEvent({
        type: "progress",
        step: p.current,
        total: p.total,
        percent: Math.round(p.percentage * 100),
        ...(secondsPerStep !== undefined ? { secondsPerStep, etaSeconds: Math.round((p.total - p.current) * secondsPerStep) } : {}),
        elapsedSeconds: Math.round((at - started) / 1000),
      });
    };
    update(training);
    try {
      return await trainings.wait(training, {
        signal,
        cancelOnStop: false,
        intervalMs: interval,
        maxIntervalMs: Math.max(interval, Math.min(15_000, interval * 3)),
        // A training is never cancelled for taking long: it is paid for; stop polling only.
        timeoutMs: 24 * 3600_000,
        onUpdate: update,
      });
    } catch (error) {
      if (signal.aborted || error instanceof InterruptedError) {
        return this.interrupted(trainings, training, state, plan, onEvent);
      }
      if (isHeadshotError(error) && error.code === "E_REPLICATE_POLL_TIMEOUT") {
        throw new RemoteApiError(`the training ${training.id} is still not finished after 24 hours of waiting`, {
          code: "E_REPLICATE_POLL_TIMEOUT",
          hint: `it was not cancelled; check ${state.training?.web ?? "https://replicate.com/trainings"} and re-run the same command to re-attach`,
        });
      }
      throw error;
    }
  }

  private async interrupted(trainings: Trainings, training: Training, state: RemoteTrainingState, plan: TrainPlan, onEvent: Emit): Promise<never> {
    const web = state.training?.web ?? `https://replicate.com/p/${training.id}`;
    // A phase line stops a live progress bar, so the question is not drawn over.
    onEvent({ type: "phase", phase: "interrupted", message: `interrupted; training ${training.id} is still running on Replicate` });
    let cancel = Boolean(this.options.cancelOnInterrupt);
    if (!cancel && this.options.interactive && this.options.confirm) cancel = await this.options.confirm(CANCEL_QUESTION).catch(() => false);
    const resume = this.options.resumeCommand ?? `headshot train <selfies> --name ${plan.name} --backend replicate --resume`;
    if (cancel) {
      try {
        const after = await trainings.cancel(training.id);
        await writeRemoteState(plan.paths.trainingFolder, { ...state, status: after.status });
      } catch (error) {
        throw new InterruptedError(`could not cancel training ${training.id} on Replicate: ${(error as Error).message}`, {
          details: [web],
          hint: `cancel it on the website, or re-attach with: ${resume}`,
        });
      }
      throw new InterruptedError(`cancelled training ${training.id} on Replicate`, {
        details: ["you are billed for the time it ran"],
        hint: `to train again (a new, paid training): ${resume.replace(/ --resume$/, "")} --restart`,
      });
    }
    throw new InterruptedError(`stopped waiting; training ${training.id} keeps running on Replicate (and is billed)`, {
      details: [web, ...(this.options.interactive ? [] : ["not cancelled: pass --cancel-on-interrupt to cancel it on Ctrl-C in CI"])],
      hint: `re-attach (no new training is paid for): ${resume}`,
    });
  }

  private async finish(
    session: ReplicateSession,
    trainings: Trainings,
    training: Training,
    state: RemoteTrainingState,
    { signal, onEvent, plan }: { signal: AbortSignal; onEvent: Emit; plan: TrainPlan },
  ): Promise<TrainResult> {
    const dir = plan.paths.trainingFolder;
    const ended: RemoteTrainingState = {
      ...state,
      status: training.status,
      error: training.error ? session.redact(String(training.error)) : null,
      completedAt: training.completed_at ?? null,
      ...(training.metrics ? { metrics: { ...(training.metrics.predict_time !== undefined ? { predict_time: training.metrics.predict_time } : {}), ...(training.metrics.total_time !== undefined ? { total_time: training.metrics.total_time } : {}) } } : {}),
      ...(training.output ? { output: { ...(training.output.version ? { version: training.output.version } : {}), ...(training.output.weights ? { weights: training.output.weights } : {}) } } : {}),
    };
    await writeRemoteState(dir, ended);
    if (training.status !== "succeeded") throw paidFailure(jobFailure(training, "training", session.redact), remoteStatePath(dir));
    const result = trainings.assertSucceeded(training);
    const info = remoteInfo(ended) as RemoteTrainingInfo;
    const total = plan.steps;
    onEvent({ type: "progress", step: total, total, percent: 100, elapsedSeconds: Math.round(training.metrics?.predict_time ?? 0) });
    if (!result.weights) return remoteOnly(info, plan, onEvent, "Replicate returned no weights URL for this training");

    onEvent({ type: "phase", phase: "download", message: "downloading the trained weights" });
    let tar;
    try {
      tar = await downloadOutput(session, result.weights, { dir, name: "trained_model", expect: "tar", signal, completedAt: training.completed_at ?? null });
    } catch (error) {
      if (isHeadshotError(error) && error.code === "E_REPLICATE_OUTPUT_EXPIRED") return remoteOnly(info, plan, onEvent, "the weights file has expired on Replicate");
      throw error;
    }
    try {
      const lora = await extractLora(tar.path, plan.paths.finalLora);
      const sha256 = await sha256File(lora.path);
      await writeRemoteState(dir, { ...ended, lora: { path: lora.path, sha256, bytes: lora.bytes } });
      return { loraPath: lora.path, step: total, alreadyFinished: false, samples: [], remote: info };
    } finally {
      await rm(tar.path, { force: true });
    }
  }
}
