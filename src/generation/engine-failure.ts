/**
 * What the engine does when an attempt ends badly: classify the error, then either schedule
 * another attempt (transient, re-attach, expired) or record the image as failed or filtered
 * (a fatal failure also stops new creates); and, on Ctrl-C, apply the backend's interrupt rule.
 */
import { InterruptedError, isAbortError, isHeadshotError } from "../errors.js";
import { GenerationFailure, type FailureKind } from "./generator.js";
import { sleep } from "../util/sleep.js";
import { endAttempt, type EngineRun, type ImageJob } from "./engine-run.js";
import type { InterruptAction } from "./engine-types.js";

/** Ctrl-C (or an abort) rather than a failure of the image. */
export function isInterrupt(run: EngineRun, error: unknown): boolean {
  return error instanceof InterruptedError || isAbortError(error) || run.signal.aborted;
}

/** Classifies an error a backend threw; anything untyped is a bug and is rethrown. */
export function asFailure(error: unknown): GenerationFailure {
  if (error instanceof GenerationFailure) return error;
  if (isHeadshotError(error)) {
    // Typed errors a backend did not classify: API errors (exit 4) stop the batch; others end the image.
    const kind: FailureKind = error.exitCode === 4 ? "fatal" : "failed";
    return new GenerationFailure(kind, error.message, { code: error.code, cause: error, ...(error.hint ? { hint: error.hint } : {}) });
  }
  throw error;
}

/** Retries when it may (returns true, after the pause) or records the image's end (false). */
export async function afterFailure(run: EngineRun, job: ImageJob, failure: GenerationFailure): Promise<boolean> {
  const retryable = failure.kind === "transient" || failure.kind === "reattach" || failure.kind === "expired";
  const canRetry = retryable && job.tries < run.maxAttempts && !run.stopCreating;
  job.resume = failure.kind === "reattach" && failure.options.remote ? { remoteId: failure.options.remote.id } : undefined;
  if (canRetry) {
    await scheduleRetry(run, job, failure);
    return true;
  }
  await recordFailure(run, job, failure);
  return false;
}

async function scheduleRetry(run: EngineRun, job: ImageJob, failure: GenerationFailure): Promise<void> {
  const delayMs = failure.kind === "expired" ? 0 : run.retryDelay(job.tries);
  await run.store.update(job.key, (e) => {
    endAttempt(run, e, failure.kind, failure);
    if (!job.resume) {
      // A new prediction will be created: forget the old one.
      e.status = "planned";
      delete e.predictionId;
      delete e.webUrl;
    }
  });
  run.emit({ type: "image.retry", key: job.key, attempt: job.attempt, kind: failure.kind, code: failure.code, message: failure.message, delayMs, ...(failure.options.remote ? { remoteId: failure.options.remote.id } : {}) });
  await sleep(delayMs, run.signal);
}

async function recordFailure(run: EngineRun, job: ImageJob, failure: GenerationFailure): Promise<void> {
  const { key } = job;
  await run.store.update(key, (e) => {
    endAttempt(run, e, failure.kind, failure);
    e.error = { code: failure.code, message: failure.message.slice(0, 1000), kind: failure.kind };
    // A succeeded prediction whose download failed stays `created`: a re-run fetches it
    // (within Replicate's hour) instead of paying again.
    if (failure.kind === "reattach" && e.predictionId) e.status = "created";
    else e.status = failure.kind === "filtered" ? "filtered" : "failed";
  });
  if (failure.kind === "filtered") run.emit({ type: "image.filtered", key, code: failure.code, message: failure.message });
  else run.emit({ type: "image.failed", key, code: failure.code, message: failure.message, kind: failure.kind });
  if (failure.kind === "fatal") {
    run.stopCreating = true;
    const cause = failure.cause;
    run.fatal ??= isHeadshotError(cause) ? cause : undefined;
  }
}

/** Ctrl-C reached this job: cancel or leave its prediction (backend's rule) and record which. */
export async function onInterrupted(run: EngineRun, job: ImageJob): Promise<void> {
  const { key, image } = job;
  const { store, generator } = run;
  const entry = store.entry(key);
  let action: InterruptAction = "none";
  const remoteId = entry?.status === "created" ? entry.predictionId : undefined;
  if (remoteId && generator.onInterrupt) {
    action = await generator.onInterrupt({ id: remoteId, modelRef: entry?.modelRef ?? image.model }, job.lastStage).catch(() => "left-running" as const);
    if (action === "cancelled") {
      await store.update(key, (e) => {
        endAttempt(run, e, "cancelled");
        e.status = "planned";
        delete e.predictionId;
        delete e.webUrl;
      });
    }
  } else if (remoteId) {
    action = "left-running";
  }
  run.interruptedJobs.push({ key, remoteId, action });
  run.emit({ type: "image.interrupted", key, remoteId, action });
}
