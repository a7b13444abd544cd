/**
 * The batch engine: runs a plan's images as jobs through one Generator, `concurrency` at a time,
 * with the manifest updated (atomically) at every step, so that whatever happens nothing is lost
 * or paid for twice:
 *
 * - an image `done` on disk (hash checked) is skipped;
 * - `downloaded` (raw output on disk) is only finalised;
 * - `created` re-attaches to its prediction; `creating` asks the backend to look for it first;
 * - a transient failure gets a new attempt (up to `maxAttempts` per run, with backoff); a failed
 *   download is retried against the same prediction; NSFW-filtered and failed images are
 *   recorded and reported, never dropped; a fatal error (token, credit, invalid input) stops
 *   creating and lets running jobs finish;
 * - Ctrl-C stops creating; running jobs are handed to the backend's interrupt rule (Replicate:
 *   cancel what is still queued, leave what is already processing for the re-run to collect).
 */
import { rmdir } from "node:fs/promises";
import { DiskFullError, diskErrorCode } from "../util/disk-full.js";
import { recoverLostCreates } from "./recover.js";
import { counts, entriesOf, emitProgress, startRun } from "./engine-run.js";
import { runImage } from "./engine-image.js";
import type { EngineOptions, EngineResult } from "./engine-types.js";

export type { CreateGate, EngineEvent, EngineOptions, EngineResult, InterruptAction } from "./engine-types.js";

// The steps live beside this file: engine-run.ts holds the state (one object for the run, one per
// image job), engine-image.ts takes one image through admit -> create or resume -> wait ->
// finalize, engine-failure.ts classifies a failure and retries, records it, or applies Ctrl-C.
export async function runEngine(options: EngineOptions): Promise<EngineResult> {
  const run = startRun(options);
  const { plan, generator, store, signal, now } = run;
  await recoverLostCreates({ plan, generator, store, signal, now, onRecovered: (key, remote) => run.emit({ type: "image.recovered", key, remoteId: remote.id }) });
  await run.gate?.open?.(entriesOf(run));
  emitProgress(run);
  await Promise.all(plan.images.map((image) => runImage(run, image)));
  await store.commit().catch((error: unknown) => {
    if (!diskErrorCode(error)) throw error;
    run.diskError ??= error;
  });
  // Raw outputs are deleted once finalised: an empty raw folder is clutter in every finished
  // folder (issue 15). rmdir only removes it when empty, so a raw file still needed stays.
  await rmdir(run.rawDir).catch(() => undefined);
  const c = counts(run);
  if (run.diskError) {
    throw new DiskFullError(diskErrorCode(run.diskError) ?? "ENOSPC", plan.outDir, {
      landed: `${c.done} of ${plan.images.length} images landed and are kept; the manifest (${store.path}) records them`,
      resume: "the same command: finished images are kept, paid predictions are collected, nothing is paid twice",
      cause: run.diskError,
    });
  }
  return {
    total: plan.images.length,
    skipped: run.skipped,
    finished: run.finished,
    entries: entriesOf(run),
    interrupted: signal.aborted,
    fatal: run.fatal,
    spentUsd: Math.round(c.spent * 1000) / 1000,
    spentThisRunUsd: Math.round(run.spentThisRun * 1000) / 1000,
    seconds: Math.round((Date.now() - run.started) / 100) / 10,
    interruptedJobs: run.interruptedJobs,
  };
}
