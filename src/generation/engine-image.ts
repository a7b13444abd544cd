/**
 * One image through the engine, as named steps over the explicit state in engine-run.ts:
 * enter (skip what is done, take a slot) -> admit (the create gate) -> create or resume ->
 * wait (the backend's callbacks move the manifest along) -> record the download -> finalize;
 * failures go to engine-failure.ts (classify, retry or record), Ctrl-C to its interrupt rule.
 */
import { relative } from "node:path";
import { InterruptedError } from "../errors.js";
import { diskErrorCode } from "../util/disk-full.js";
import type { GenCallbacks, GenResult } from "./generator.js";
import type { ManifestEntry } from "./manifest.js";
import type { PlannedImage } from "./plan.js";
import { emitProgress, endAttempt, finalize, leave, moveToFinishing, type EngineRun, type ImageJob } from "./engine-run.js";
import { afterFailure, asFailure, isInterrupt, onInterrupted } from "./engine-failure.js";

export async function runImage(run: EngineRun, image: PlannedImage): Promise<void> {
  const initial = run.store.entry(image.key);
  if (!initial) throw new Error(`manifest has no image ${image.key}`);
  if (initial.status === "done") {
    run.skipped++;
    run.emit({ type: "image.skipped", key: image.key, file: image.path });
    return;
  }
  await run.slots.acquire();
  // A slot is held while the remote job runs; once it is over, the download and the writing go
  // on outside it (bounded by `finishing`) and the next image starts at once.
  const job = newJob(run, image, initial);
  if (run.stopCreating || run.signal.aborted) {
    leave(run, job);
    return;
  }
  run.running++;
  try {
    if (initial.status === "downloaded") await finalize(run, image, () => leave(run, job));
    else await runAttempts(run, job);
  } catch (error) {
    // A full (or read-only) disk stops new work; the images in flight settle first (issue 14, R2).
    if (diskErrorCode(error) && !run.signal.aborted) {
      run.diskError ??= error;
      run.stopCreating = true;
      return;
    }
    if (!isInterrupt(run, error)) throw error;
    await onInterrupted(run, job);
  } finally {
    leave(run, job);
    run.running--;
    if (run.gate) await run.gate.settle(image, run.store.entry(image.key));
    emitProgress(run);
  }
}

function newJob(run: EngineRun, image: PlannedImage, initial: ManifestEntry): ImageJob {
  const resume = initial.status === "created" && initial.predictionId ? { remoteId: initial.predictionId } : undefined;
  return {
    image,
    key: image.key,
    held: "slot",
    lastStage: initial.status === "created" ? "queued" : "creating",
    admitted: !run.gate,
    resume,
    attempt: initial.attempts.length,
    tries: 0,
    // A create that may have reached the server is looked for with the inputs it was sent with.
    inputs: resume ? initial.inputs : inputsFor(run, image),
  };
}

function inputsFor(run: EngineRun, image: PlannedImage): Record<string, unknown> {
  return run.generator.inputsFor ? run.generator.inputsFor(image) : image.inputs;
}

/** Attempts until the image is done, has failed for good, or may not be created (gate, fatal). */
async function runAttempts(run: EngineRun, job: ImageJob): Promise<void> {
  for (;;) {
    if (run.signal.aborted) throw new InterruptedError();
    if (!(await beginAttempt(run, job))) return;
    try {
      const result = await createOrResume(run, job);
      recordDownloaded(run, job, result);
      await finalize(run, job.image, () => leave(run, job));
      return;
    } catch (error) {
      if (isInterrupt(run, error)) throw error;
      // No retry onto a full disk: the entry keeps its state (a paid prediction stays `created`).
      if (diskErrorCode(error)) throw error;
      if (!(await afterFailure(run, job, asFailure(error)))) return;
    }
  }
}

/** Numbers the attempt (a new create must pass the gate first); false: nothing is created. */
async function beginAttempt(run: EngineRun, job: ImageJob): Promise<boolean> {
  if (!job.resume) {
    if (run.stopCreating) return false;
    if (!job.admitted) {
      if (!(await run.gate!.admit(job.image, run.signal))) return false;
      job.admitted = true;
    }
    job.attempt++;
    job.inputs = inputsFor(run, job.image);
  } else if (job.attempt === 0) {
    job.attempt = 1;
  }
  job.tries++;
  run.emit({ type: "image.started", key: job.key, attempt: job.attempt, resumed: Boolean(job.resume) });
  const startedAt = run.now().toISOString();
  if (!job.resume) {
    // A new attempt: written with the next commit (onCreating commits before anything is paid).
    run.store.touch(job.key, (e) => {
      e.attempts.push({ n: job.attempt, startedAt });
      e.timing.startedAt ??= startedAt;
      e.inputs = job.inputs;
      delete e.error;
    });
  }
  return true;
}

/** Creates the prediction (or re-attaches to `job.resume`) and waits for its raw output. */
function createOrResume(run: EngineRun, job: ImageJob): Promise<GenResult> {
  const { image, key, attempt, inputs, resume } = job;
  return run.generator.generate({ image, attempt, inputs, rawDir: run.rawDir, rawName: `${key}-a${attempt}`, resume }, generatorHooks(run, job));
}

/** The backend's callbacks: each moves the manifest (or the job's semaphores) one step on. */
function generatorHooks(run: EngineRun, job: ImageJob): GenCallbacks {
  const { store, now } = run;
  const { key } = job;
  return {
    signal: run.signal,
    onStage: (next) => {
      job.lastStage = next;
    },
    onRemoteDone: () => moveToFinishing(run, job),
    // Not awaited: a create lost to a kill is found again by recoverLostCreates() on resume.
    onCreating: async () =>
      store.touch(key, (e) => {
        e.status = "creating";
        e.creatingSince = now().toISOString();
      }),
    onCreated: async (remote) => {
      const written = store.update(key, (e) => {
        e.status = "created";
        e.predictionId = remote.id;
        e.modelRef = remote.modelRef;
        if (remote.version) e.version = remote.version;
        if (remote.webUrl) e.webUrl = remote.webUrl;
        e.timing.createdAt ??= now().toISOString();
        delete e.creatingSince;
        const last = e.attempts[e.attempts.length - 1];
        if (last) last.remoteId = remote.id;
      });
      run.emit({ type: "image.created", key, attempt: job.attempt, remoteId: remote.id, webUrl: remote.webUrl });
      await written;
    },
  };
}

function recordDownloaded(run: EngineRun, job: ImageJob, result: GenResult): void {
  run.spentThisRun += result.costUsd;
  // Not awaited: losing this state to a kill only means re-fetching from the prediction.
  run.store.touch(job.key, (e) => {
    e.status = "downloaded";
    e.raw = { path: relative(run.plan.outDir, result.rawPath).split("\\").join("/"), sha256: result.sha256, contentType: result.contentType };
    e.costUsd = result.costUsd;
    e.costSource = result.costSource;
    if (result.placeholder) e.placeholder = true;
    if (result.rehearsal) e.rehearsal = result.rehearsal;
    if (result.remote) {
      e.predictionId ??= result.remote.id;
      e.modelRef = result.remote.modelRef;
      if (result.remote.version) e.version = result.remote.version;
    }
    if (result.completedAt) e.timing.completedAt = result.completedAt;
    if (result.predictSeconds !== undefined) e.timing.predictSeconds = result.predictSeconds;
    e.timing.downloadedAt = run.now().toISOString();
    endAttempt(run, e, "succeeded");
  });
}
