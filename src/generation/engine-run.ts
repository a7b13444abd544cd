/**
 * The engine's state, in one explicit object: what the whole run shares (counters, the fatal
 * error, the two semaphores) and what one image's job carries from step to step (its slot, its
 * attempt number, the prediction it resumes). The steps in engine-image.ts and engine-failure.ts
 * read and change only these objects, never hidden closure variables.
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { HeadshotError } from "../errors.js";
import type { GenStage, Generator } from "./generator.js";
import { RAW_DIR, type ManifestEntry, type ManifestStore } from "./manifest.js";
import { Semaphore } from "./semaphore.js";
import type { GenPlan, PlannedImage } from "./plan.js";
import { finalizeImage } from "./finalize.js";
import type { GenerationFailure } from "./generator.js";
import type { CreateGate, EngineEvent, EngineOptions, EngineResult } from "./engine-types.js";

const defaultRetryDelay = (attempt: number): number => Math.min(15_000, 1_000 * 2 ** (attempt - 1));

/** The whole run: fixed settings first, then the counters the image jobs update. */
export interface EngineRun {
  readonly plan: GenPlan;
  readonly generator: Generator;
  readonly store: ManifestStore;
  readonly signal: AbortSignal;
  readonly tool: string;
  readonly gate: CreateGate | undefined;
  readonly now: () => Date;
  readonly maxAttempts: number;
  readonly retryDelay: (attempt: number) => number;
  readonly emit: (event: EngineEvent) => void;
  readonly started: number;
  readonly rawDir: string;
  /** Held while a remote job runs. */
  readonly slots: Semaphore;
  /** Downloads and re-encoding are local work: a few at a time keeps memory flat whatever N and C. */
  readonly finishing: Semaphore;
  /** Set by a fatal failure: no new creates, running jobs finish. */
  stopCreating: boolean;
  fatal: HeadshotError | undefined;
  /** A full (or read-only) disk: stops new work; runEngine reports it once the jobs settle. */
  diskError: unknown;
  finished: number;
  skipped: number;
  running: number;
  spentThisRun: number;
  interruptedJobs: EngineResult["interruptedJobs"];
}

/** One image's job as it moves through admit -> create or resume -> wait -> finalize. */
export interface ImageJob {
  readonly image: PlannedImage;
  readonly key: string;
  /** Which semaphore the job holds: a slot while remote, `finishing` while downloading and writing. */
  held: "slot" | "finishing" | "none";
  /** The last remote stage seen, for the backend's interrupt rule. */
  lastStage: GenStage;
  admitted: boolean;
  /** The prediction this attempt re-attaches to instead of creating. */
  resume: { remoteId: string } | undefined;
  /** The attempt number as recorded in the manifest (counts earlier runs). */
  attempt: number;
  /** Attempts in this run (bounded by maxAttempts). */
  tries: number;
  inputs: Record<string, unknown>;
}

export function startRun(options: EngineOptions): EngineRun {
  return {
    plan: options.plan,
    generator: options.generator,
    store: options.store,
    signal: options.signal,
    tool: options.tool,
    gate: options.gate,
    now: options.now ?? (() => new Date()),
    maxAttempts: options.maxAttempts ?? 3,
    retryDelay: options.retryDelayMs ?? defaultRetryDelay,
    emit: (event) => options.onEvent?.(event),
    started: Date.now(),
    rawDir: join(options.plan.outDir, RAW_DIR),
    slots: new Semaphore(options.concurrency),
    finishing: new Semaphore(Math.min(options.concurrency, Math.max(2, availableParallelism()))),
    stopCreating: false,
    fatal: undefined,
    diskError: undefined,
    finished: 0,
    skipped: 0,
    running: 0,
    spentThisRun: 0,
    interruptedJobs: [],
  };
}

/** Releases whichever semaphore the job holds (idempotent). */
export function leave(run: EngineRun, job: ImageJob): void {
  if (job.held === "slot") run.slots.release();
  else if (job.held === "finishing") run.finishing.release();
  job.held = "none";
}

/** The remote part is over: give the slot to the next image and queue for local finishing. */
export async function moveToFinishing(run: EngineRun, job: ImageJob): Promise<void> {
  if (job.held !== "slot") return;
  run.slots.release();
  job.held = "none";
  await run.finishing.acquire();
  job.held = "finishing";
}

export function counts(run: EngineRun): { done: number; failed: number; filtered: number; spent: number } {
  let done = 0;
  let failed = 0;
  let filtered = 0;
  let spent = 0;
  for (const image of run.plan.images) {
    const e = run.store.entry(image.key);
    if (!e) continue;
    spent += e.costUsd;
    if (e.status === "done") done++;
    else if (e.status === "failed") failed++;
    else if (e.status === "filtered") filtered++;
  }
  return { done, failed, filtered, spent };
}

export function emitProgress(run: EngineRun): void {
  const c = counts(run);
  const total = run.plan.images.length;
  const remaining = total - c.done - c.failed - c.filtered;
  const elapsed = (Date.now() - run.started) / 1000;
  const eta = run.finished > 0 ? Math.round((elapsed / run.finished) * remaining) : null;
  // An image counts as done as soon as its manifest entry says so, a moment before its job
  // leaves `running`: never report more running than are left ("4/4 done · 3 running", issue 15).
  const inFlight = Math.max(0, Math.min(run.running, remaining));
  run.emit({ type: "progress", done: c.done, failed: c.failed, filtered: c.filtered, total, running: inFlight, spentUsd: Math.round(c.spent * 1000) / 1000, etaSeconds: eta });
}

export async function finalize(run: EngineRun, image: PlannedImage, filesWritten: () => void): Promise<void> {
  const { plan, store, tool, now } = run;
  const done = await finalizeImage({ plan, store, image, tool, placeholder: run.generator.placeholder, now, filesWritten });
  run.finished++;
  run.emit({ type: "image.done", key: image.key, file: image.path, ...done });
}

/** Closes the entry's open attempt with its outcome (and the failure, if any). */
export function endAttempt(run: EngineRun, e: ManifestEntry, outcome: string, failure?: GenerationFailure): void {
  const last = e.attempts[e.attempts.length - 1];
  if (last && !last.endedAt) {
    last.endedAt = run.now().toISOString();
    last.outcome = outcome;
    if (failure) {
      last.code = failure.code;
      last.error = failure.message.slice(0, 500);
    }
  }
}

export function entriesOf(run: EngineRun): ManifestEntry[] {
  return run.plan.images.map((image) => run.store.entry(image.key)).filter((e): e is ManifestEntry => Boolean(e));
}
