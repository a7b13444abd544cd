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
import { availableParallelism } from "node:os";
import { join, relative } from "node:path";
import { InterruptedError, isAbortError, isHeadshotError, type HeadshotError } from "../errors.js";
import { GenerationFailure, type FailureKind, type GenStage, type Generator } from "./generator.js";
import { RAW_DIR, type ManifestEntry, type ManifestStore } from "./manifest.js";
import { Semaphore } from "./semaphore.js";
import type { GenPlan, PlannedImage } from "./plan.js";
import { finalizeImage } from "./finalize.js";
import { recoverLostCreates } from "./recover.js";
import { sleep } from "../util/sleep.js";
import { DiskFullError, diskErrorCode } from "../util/disk-full.js";

export type EngineEvent =
  | { type: "image.skipped"; key: string; file: string }
  | { type: "image.started"; key: string; attempt: number; resumed: boolean }
  | { type: "image.created"; key: string; attempt: number; remoteId: string; webUrl?: string | undefined }
  | { type: "image.recovered"; key: string; remoteId: string }
  // remoteId: the prediction this attempt used, when there was one (for `expired`: the one whose output was deleted).
  | { type: "image.retry"; key: string; attempt: number; kind: FailureKind; code: string; message: string; delayMs: number; remoteId?: string | undefined }
  | { type: "image.done"; key: string; file: string; seconds: number; costUsd: number; placeholder: boolean }
  | { type: "image.failed"; key: string; code: string; message: string; kind: FailureKind }
  | { type: "image.filtered"; key: string; code: string; message: string }
  | { type: "image.interrupted"; key: string; remoteId?: string | undefined; action: "cancelled" | "left-running" | "none" }
  | { type: "progress"; done: number; failed: number; filtered: number; total: number; running: number; spentUsd: number; etaSeconds: number | null };

/**
 * Decides, image by image, whether to create at all (`gen --until K` / `--budget`: see
 * src/generate/until-gate.ts). The engine still owns creating; the gate only says yes or no before an
 * image's first create in this run, and hears about every image that ends.
 */
export interface CreateGate {
  /** Once, after lost creates are recovered and before any image runs. */
  open?(entries: ManifestEntry[]): Promise<void>;
  /** Before an image's first create in this run; false leaves it `planned` (a re-run may make it). */
  admit(image: PlannedImage, signal: AbortSignal): Promise<boolean>;
  /** An image that ran in this run ended (done, failed, filtered, interrupted or not admitted). */
  settle(image: PlannedImage, entry: ManifestEntry | undefined): Promise<void>;
}

export interface EngineOptions {
  plan: GenPlan;
  generator: Generator;
  store: ManifestStore;
  concurrency: number;
  signal: AbortSignal;
  tool: string;
  /** Attempts per image in one run (transient failures). Default 3. */
  maxAttempts?: number;
  /** Pause before attempt n+1. Default 1 s, 2 s, 4 s... capped at 15 s. */
  retryDelayMs?: (attempt: number) => number;
  onEvent?: (event: EngineEvent) => void;
  now?: () => Date;
  gate?: CreateGate;
}

export interface EngineResult {
  total: number;
  /** Done before this run (skipped). */
  skipped: number;
  /** Finished in this run. */
  finished: number;
  entries: ManifestEntry[];
  interrupted: boolean;
  fatal?: HeadshotError | undefined;
  spentUsd: number;
  spentThisRunUsd: number;
  seconds: number;
  interruptedJobs: Array<{ key: string; remoteId?: string | undefined; action: "cancelled" | "left-running" | "none" }>;
}

const defaultRetryDelay = (attempt: number): number => Math.min(15_000, 1_000 * 2 ** (attempt - 1));


function asFailure(error: unknown): GenerationFailure {
  if (error instanceof GenerationFailure) return error;
  if (isHeadshotError(error)) {
    // Typed errors a backend did not classify: API errors (exit 4) stop the batch; others end the image.
    const kind: FailureKind = error.exitCode === 4 ? "fatal" : "failed";
    return new GenerationFailure(kind, error.message, { code: error.code, cause: error, ...(error.hint ? { hint: error.hint } : {}) });
  }
  throw error;
}

export async function runEngine(options: EngineOptions): Promise<EngineResult> {
  const { plan, generator, store, signal } = options;
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? 3;
  const retryDelay = options.retryDelayMs ?? defaultRetryDelay;
  const emit = (event: EngineEvent) => options.onEvent?.(event);
  const started = Date.now();
  const rawDir = join(plan.outDir, RAW_DIR);
  let stopCreating = false;
  let fatal: HeadshotError | undefined;
  let diskError: unknown;
  let finished = 0;
  let skipped = 0;
  let running = 0;
  let spentThisRun = 0;
  const interruptedJobs: EngineResult["interruptedJobs"] = [];

  const counts = () => {
    let done = 0;
    let failed = 0;
    let filtered = 0;
    let spent = 0;
    for (const image of plan.images) {
      const e = store.entry(image.key);
      if (!e) continue;
      spent += e.costUsd;
      if (e.status === "done") done++;
      else if (e.status === "failed") failed++;
      else if (e.status === "filtered") filtered++;
    }
    return { done, failed, filtered, spent };
  };
  const progress = () => {
    const c = counts();
    const remaining = plan.images.length - c.done - c.failed - c.filtered;
    const elapsed = (Date.now() - started) / 1000;
    const eta = finished > 0 ? Math.round((elapsed / finished) * remaining) : null;
    // An image counts as done as soon as its manifest entry says so, a moment before its job
    // leaves `running`: never report more running than are left ("4/4 done · 3 running", issue 15).
    const inFlight = Math.max(0, Math.min(running, remaining));
    emit({ type: "progress", done: c.done, failed: c.failed, filtered: c.filtered, total: plan.images.length, running: inFlight, spentUsd: Math.round(c.spent * 1000) / 1000, etaSeconds: eta });
  };

  const finalize = async (image: PlannedImage, filesWritten: () => void = () => undefined): Promise<void> => {
    const done = await finalizeImage({ plan, store, image, tool: options.tool, placeholder: generator.placeholder, now, filesWritten });
    finished++;
    emit({ type: "image.done", key: image.key, file: image.path, ...done });
  };

  const endAttempt = (e: ManifestEntry, outcome: string, failure?: GenerationFailure) => {
    const last = e.attempts[e.attempts.length - 1];
    if (last && !last.endedAt) {
      last.endedAt = now().toISOString();
      last.outcome = outcome;
      if (failure) {
        last.code = failure.code;
        last.error = failure.message.slice(0, 500);
      }
    }
  };

  const runImage = async (image: PlannedImage): Promise<void> => {
    const key = image.key;
    const initial = store.entry(key);
    if (!initial) throw new Error(`manifest has no image ${key}`);
    if (initial.status === "done") {
      skipped++;
      emit({ type: "image.skipped", key, file: image.path });
      return;
    }
    await slots.acquire();
    // A slot is held while the remote job runs; once it is over, the download and the writing go
    // on outside it (bounded by `finishing`) and the next image starts at once.
    let stage: "slot" | "finishing" | "none" = "slot";
    const leave = () => {
      if (stage === "slot") slots.release();
      else if (stage === "finishing") finishing.release();
      stage = "none";
    };
    if (stopCreating || signal.aborted) {
      leave();
      return;
    }
    running++;
    let lastStage: GenStage = initial.status === "created" ? "queued" : "creating";
    let admitted = !options.gate;
    try {
      if (initial.status === "downloaded") {
        await finalize(image, leave);
        return;
      }
      let resume: { remoteId: string } | undefined = initial.status === "created" && initial.predictionId ? { remoteId: initial.predictionId } : undefined;

      let attempt = initial.attempts.length;
      let tries = 0;
      // A create that may have reached the server is looked for with the inputs it was sent with.
      let inputs = resume ? initial.inputs : generator.inputsFor ? generator.inputsFor(image) : image.inputs;
      for (;;) {
        if (signal.aborted) throw new InterruptedError();
        if (!resume) {
          if (stopCreating) return;
          if (!admitted) {
            if (!(await options.gate!.admit(image, signal))) return;
            admitted = true;
          }
          attempt++;
          inputs = generator.inputsFor ? generator.inputsFor(image) : image.inputs;
        } else if (attempt === 0) {
          attempt = 1;
        }
        tries++;
        emit({ type: "image.started", key, attempt, resumed: Boolean(resume) });
        const startedAt = now().toISOString();
        if (!resume) {
          // A new attempt: written with the next commit (onCreating commits before anything is paid).
          store.touch(key, (e) => {
            e.attempts.push({ n: attempt, startedAt });
            e.timing.startedAt ??= startedAt;
            e.inputs = inputs;
            delete e.error;
          });
        }
        try {
          const result = await generator.generate(
            { image, attempt, inputs, rawDir, rawName: `${key}-a${attempt}`, resume },
            {
              signal,
              onStage: (next) => {
                lastStage = next;
              },
              onRemoteDone: async () => {
                if (stage !== "slot") return;
                slots.release();
                stage = "none";
                await finishing.acquire();
                stage = "finishing";
              },
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
                emit({ type: "image.created", key, attempt, remoteId: remote.id, webUrl: remote.webUrl });
                await written;
              },
            },
          );
          spentThisRun += result.costUsd;
          // Not awaited: losing this state to a kill only means re-fetching from the prediction.
          store.touch(key, (e) => {
            e.status = "downloaded";
            e.raw = { path: relative(plan.outDir, result.rawPath).split("\\").join("/"), sha256: result.sha256, contentType: result.contentType };
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
            e.timing.downloadedAt = now().toISOString();
            endAttempt(e, "succeeded");
          });
          await finalize(image, leave);
          return;
        } catch (error) {
          if (error instanceof InterruptedError || isAbortError(error) || signal.aborted) throw error;
          // No retry onto a full disk: the entry keeps its state (a paid prediction stays `created`).
          if (diskErrorCode(error)) throw error;
          const failure = asFailure(error);
          const retryable = failure.kind === "transient" || failure.kind === "reattach" || failure.kind === "expired";
          const canRetry = retryable && tries < maxAttempts && !stopCreating;
          if (failure.kind === "reattach" && failure.options.remote) {
            resume = { remoteId: failure.options.remote.id };
          } else {
            resume = undefined;
          }
          if (canRetry) {
            const delayMs = failure.kind === "expired" ? 0 : retryDelay(tries);
            await store.update(key, (e) => {
              endAttempt(e, failure.kind, failure);
              if (!resume) {
                // A new prediction will be created: forget the old one.
                e.status = "planned";
                delete e.predictionId;
                delete e.webUrl;
              }
            });
            emit({ type: "image.retry", key, attempt, kind: failure.kind, code: failure.code, message: failure.message, delayMs, ...(failure.options.remote ? { remoteId: failure.options.remote.id } : {}) });
            await sleep(delayMs, signal);
            continue;
          }
          await store.update(key, (e) => {
            endAttempt(e, failure.kind, failure);
            e.error = { code: failure.code, message: failure.message.slice(0, 1000), kind: failure.kind };
            // A succeeded prediction whose download failed stays `created`: a re-run fetches it
            // (within Replicate's hour) instead of paying again.
            if (failure.kind === "reattach" && e.predictionId) e.status = "created";
            else e.status = failure.kind === "filtered" ? "filtered" : "failed";
          });
          if (failure.kind === "filtered") emit({ type: "image.filtered", key, code: failure.code, message: failure.message });
          else emit({ type: "image.failed", key, code: failure.code, message: failure.message, kind: failure.kind });
          if (failure.kind === "fatal") {
            stopCreating = true;
            const cause = failure.cause;
            fatal ??= isHeadshotError(cause) ? cause : undefined;
          }
          return;
        }
      }
    } catch (error) {
      // A full (or read-only) disk stops new work; the images in flight settle first (issue 14, R2).
      if (diskErrorCode(error) && !signal.aborted) {
        diskError ??= error;
        stopCreating = true;
        return;
      }
      if (!(error instanceof InterruptedError || isAbortError(error) || signal.aborted)) throw error;
      const entry = store.entry(key);
      let action: "cancelled" | "left-running" | "none" = "none";
      const remoteId = entry?.status === "created" ? entry.predictionId : undefined;
      if (remoteId && generator.onInterrupt) {
        action = await generator.onInterrupt({ id: remoteId, modelRef: entry?.modelRef ?? image.model }, lastStage).catch(() => "left-running" as const);
        if (action === "cancelled") {
          await store.update(key, (e) => {
            endAttempt(e, "cancelled");
            e.status = "planned";
            delete e.predictionId;
            delete e.webUrl;
          });
        }
      } else if (remoteId) {
        action = "left-running";
      }
      interruptedJobs.push({ key, remoteId, action });
      emit({ type: "image.interrupted", key, remoteId, action });
    } finally {
      leave();
      running--;
      if (options.gate) await options.gate.settle(image, store.entry(key));
      progress();
    }
  };

  await recoverLostCreates({ plan, generator, store, signal, now, onRecovered: (key, remote) => emit({ type: "image.recovered", key, remoteId: remote.id }) });
  await options.gate?.open?.(plan.images.map((image) => store.entry(image.key)).filter((e): e is ManifestEntry => Boolean(e)));
  const slots = new Semaphore(options.concurrency);
  // Downloads and re-encoding are local work: a few at a time keeps memory flat whatever N and C.
  const finishing = new Semaphore(Math.min(options.concurrency, Math.max(2, availableParallelism())));
  progress();
  await Promise.all(plan.images.map((image) => runImage(image)));
  await store.commit().catch((error: unknown) => {
    if (!diskErrorCode(error)) throw error;
    diskError ??= error;
  });
  // Raw outputs are deleted once finalised: an empty raw folder is clutter in every finished
  // folder (issue 15). rmdir only removes it when empty, so a raw file still needed stays.
  await rmdir(rawDir).catch(() => undefined);
  const c = counts();
  if (diskError) {
    throw new DiskFullError(diskErrorCode(diskError) ?? "ENOSPC", plan.outDir, {
      landed: `${c.done} of ${plan.images.length} images landed and are kept; the manifest (${store.path}) records them`,
      resume: "the same command: finished images are kept, paid predictions are collected, nothing is paid twice",
      cause: diskError,
    });
  }
  return {
    total: plan.images.length,
    skipped,
    finished,
    entries: plan.images.map((image) => store.entry(image.key)).filter((e): e is ManifestEntry => Boolean(e)),
    interrupted: signal.aborted,
    fatal,
    spentUsd: Math.round(c.spent * 1000) / 1000,
    spentThisRunUsd: Math.round(spentThisRun * 1000) / 1000,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    interruptedJobs,
  };
}
