/**
 * The one generate use case, for `gen` and for each preset of a batch: subject and LoRA source ->
 * plan -> engine (with the --until / --budget gate) -> curation -> polish -> how it ended. Plain
 * input and {signal, onEvent, now}; no terminal, no argv. The `gen` command renders its events
 * (src/cli/views/gen.ts); a batch injects what it already holds (GenerateInjected) and maps the
 * result to its preset outcome (src/batch/gen-step.ts).
 */
import { dirname, resolve } from "node:path";
import { InterruptedError, type HeadshotError } from "../errors.js";
import { completeRun } from "../generation/complete-run.js";
import type { CreateGate } from "../generation/engine.js";
import type { RunEvent, RunGenOutput } from "../generation/run-plan.js";
import type { MemoryMode } from "../generation/local/memory-mode.js";
import { preparePlan, type GenOptions } from "../generation/prepare-plan.js";
import type { GenPlan } from "../generation/plan.js";
import type { PolishFolderEvent, PolishFolderResult } from "../polish/polish-folder.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import { resolveGenDefaults, type GenDefaults } from "../settings/command-defaults.js";
import type { UseCaseIo } from "../use-case.js";
import { curationDue, curationStop, finishCuration, prepareCuration, type CurationEvent, type CurationLook, type CurationOutcome } from "./curation-step.js";
import type { IdentityLike } from "../generation/lora-source.js";
import { checkGenerateOptions, DEFAULT_CONCURRENCY, resumeCommand, untilPlanCount, type GenerateOptions } from "./options.js";
import type { RehearsalSource } from "../generation/rehearsal/compose.js";
import { identityHomeFor, missingForRealRun, rehearsalFor } from "./rehearsal.js";
import { endingError, reportRun, type RunContext, type RunReport } from "./outcome.js";
import { withOutputFolder, type LockTakeoverEvent } from "./output-lock.js";
import { keptFiles, polishAfterRun, polishDue, type PolishDue } from "./polish-step.js";
import { resolveSource, type ResolvedSource } from "./subject.js";

export { lookupIdentity, REFERENCE_SUBJECT } from "./subject.js";

/** `rehearsal.ready`: --backend test with a person draws previews from their selfies (rehearsal.ts). */
export type GenerateEvent = RunEvent | CurationEvent | LockTakeoverEvent | PolishFolderEvent | { type: "rehearsal.ready"; source: string };

/**
 * Runs the engine: `start(concurrency, tap)` starts it with that many images in flight, `tap`
 * seeing each of its events; `complete()` is the output without the engine when every image is
 * already done (else undefined). A batch wraps them in its prediction slots and budget reservation.
 */
export type RunSlots = (
  plan: GenPlan,
  start: (concurrency: number, tap?: (event: RunEvent) => void) => Promise<RunGenOutput>,
  complete: () => Promise<RunGenOutput | undefined>,
) => Promise<RunGenOutput>;

/** What a caller that already holds them hands in (a batch preset); `gen` looks them up itself. */
export interface GenerateInjected {
  /** The identity, already resolved, and the HEADSHOT_HOME it lives in (test mode: its own). */
  identity: { record: IdentityLike; home: string };
  /** The caller already holds the output folder's lock (and made the folder). */
  folderLocked: true;
  /** The command that resumes this run (a batch's own). */
  resume: string;
  runSlots?: RunSlots | undefined;
  /** The face models, used by one caller at a time (a batch shares them between people). */
  faces?: (<T>(fn: () => Promise<T>) => Promise<T>) | undefined;
  /** How the gallery looks and whether images not kept stay where they are (paid files never move). */
  curation?: CurationLook | undefined;
  /** Whether the last curation was made from these very images and flags (then it is not redone). */
  curationCache?: { fresh(): Promise<boolean>; remember(): Promise<void> } | undefined;
}

export interface GenerateRequest {
  options: GenerateOptions;
  /** Where relative paths (--ref, --out, preset files) resolve. */
  cwd: string;
  settings: GlobalSettings;
  env: Env;
  inject?: GenerateInjected | undefined;
}

export type GenerateResult =
  | {
      dryRun: true;
      plan: GenPlan;
      /** What a real run of these options lacks (a person). */
      missing?: string | undefined;
      /** The face detail pass a real run would do after the batch. */
      polish?: { identity: string } | undefined;
    }
  | {
      dryRun: false;
      plan: GenPlan;
      output: RunGenOutput;
      /** The command that resumes or re-curates this batch. */
      resume: string;
      context: RunContext;
      report: RunReport;
      /** The batch's --json summary. */
      batch: Record<string, unknown>;
      curated: CurationOutcome | undefined;
      /** The face detail pass after the batch (its summary is also `batch.polish`). */
      polished: PolishFolderResult | undefined;
      /** Set when the run did not fully land (exit code and hint); the caller shows the summary first. */
      error: HeadshotError | undefined;
    };

/**
 * count, model, format, concurrency and backend with where each came from (flag, project config,
 * preset or default); `gen --verbose` prints them.
 */
export function generateDefaults(options: GenerateOptions, settings: GlobalSettings, backendFromFlag = true): GenDefaults {
  return resolveGenDefaults({ ...options, untilCount: untilPlanCount(options), backendFromFlag }, settings, DEFAULT_CONCURRENCY);
}

function planOptions(req: GenerateRequest, source: ResolvedSource, defaults: GenDefaults): GenOptions {
  const { options, settings } = req;
  const config = settings.projectConfig;
  return {
    preset: options.preset,
    identity: source.genIdentity,
    count: defaults.count.value,
    seed: options.seed,
    // A relative `out:` in the project config is relative to that file, not to the cwd.
    out: options.out ?? (config?.out && settings.projectConfigPath ? resolve(dirname(settings.projectConfigPath), config.out) : undefined),
    set: options.set,
    format: defaults.format.value,
    backend: options.backend,
    model: defaults.model.value,
    ref: options.ref,
    loraUrl: source.loraUrl,
    concurrency: defaults.concurrency.value,
  };
}

export async function generate(req: GenerateRequest, io: UseCaseIo<GenerateEvent>): Promise<GenerateResult> {
  const { options, settings, inject } = req;
  checkGenerateOptions(options);
  // Polish is decided, and refused without an identity, before anything is paid for.
  const polish = await polishDue(options, { cwd: req.cwd, presetDirs: settings.presetDirs });
  // A rehearsal identity (train --backend test) lives in its own registry: see rehearsal.ts.
  const home = inject?.identity.home ?? (await identityHomeFor(settings.home.value, options));
  const source = await resolveSource(req.cwd, home, options, inject?.identity.record);
  const defaults = generateDefaults(options, settings);
  const concurrency = defaults.concurrency.value;
  const { readManifest } = await import("../generation/manifest.js");
  const plan = await preparePlan(planOptions(req, source, defaults), {
    cwd: req.cwd,
    presetDirs: settings.presetDirs,
    readRecordedSeedBase: async (outDir) => (await readManifest(outDir).catch(() => undefined))?.batch.seedBase,
  });
  if (options.dryRun) return { dryRun: true, plan, missing: missingForRealRun(options), ...(polish && options.identity ? { polish: { identity: options.identity } } : {}) };

  const resume = inject?.resume ?? resumeCommand(options, plan);
  const work = () => generateLocked(req, io, { plan, source, concurrency, resume, home, polish });
  if (inject?.folderLocked) return work();
  // One run per output folder, taken before anything is requested or paid for (issue 14, S3).
  return withOutputFolder(plan.outDir, resume, io.onEvent, work);
}

interface Prepared {
  plan: GenPlan;
  source: ResolvedSource;
  concurrency: number;
  resume: string;
  home: string;
  polish: PolishDue | undefined;
}

async function generateLocked(req: GenerateRequest, io: UseCaseIo<GenerateEvent>, prepared: Prepared): Promise<GenerateResult> {
  const { options, inject } = req;
  const { plan, home } = prepared;
  const place = { cwd: req.cwd, home };
  const faces = inject?.faces ?? (<T>(fn: () => Promise<T>) => fn());
  // Before anything is paid for: the reference the flags need, and the --until / --budget gate.
  const curation = await prepareCuration(options, plan, place, io);
  const rehearsal = await faces(() => rehearsalFor(options, place, io.signal));
  if (rehearsal) io.onEvent({ type: "rehearsal.ready", source: rehearsal.label });
  let memory: MemoryMode | undefined;
  const output = await runPlan(req, { ...prepared, gate: curation.gate ?? curation.queue, rehearsal }, io, (event) => {
    if (event.type === "gen.local.memory") memory = { ...event };
  });
  // Polish on the local backend reuses gen's Python process and loaded model (runPlan kept it open).
  const shared = keepsGenerator(req, prepared) ? output.generator : undefined;
  try {
    return await afterRun(req, io, prepared, { output, curation, rehearsal, memory, shared });
  } finally {
    await shared?.close();
  }
}

/** `--polish --backend local`: the engine's generator stays open for the face pass (one model load). */
function keepsGenerator(req: GenerateRequest, prepared: Prepared): boolean {
  return prepared.polish !== undefined && req.options.backend === "local";
}

interface RunDone {
  output: RunGenOutput;
  curation: Awaited<ReturnType<typeof prepareCuration>>;
  rehearsal: RehearsalSource | undefined;
  memory: MemoryMode | undefined;
  /** gen's generator, still open, for the face pass (closed by the caller). */
  shared: RunGenOutput["generator"] | undefined;
}

/** Curation, the report, then polish: everything after the engine. */
async function afterRun(req: GenerateRequest, io: UseCaseIo<GenerateEvent>, prepared: Prepared, { output, curation, rehearsal, memory, shared }: RunDone): Promise<GenerateResult> {
  const { options, inject } = req;
  const { plan, resume, home } = prepared;
  const place = { cwd: req.cwd, home };
  const faces = inject?.faces ?? (<T>(fn: () => Promise<T>) => fn());
  const { result } = output;
  const cache = inject?.curationCache;
  const due = curationDue(result, curation, options) && !(cache && (await cache.fresh()));
  const curated = due
    ? await faces(() =>
        finishCuration(curation, { plan, store: output.opened.store, placeholder: output.placeholder, rehearsal: Boolean(rehearsal), place, options, resume, look: inject?.curation }, io),
      )
    : undefined;
  if (curated) await cache?.remember();
  const context: RunContext = { plan, modelRef: output.modelRef, backend: options.backend, placeholder: output.placeholder, rehearsal: Boolean(rehearsal), resume, references: output.references, manifest: output.opened.store.path };
  const report = reportRun(result, context);
  const batch: Record<string, unknown> = { dryRun: false, ...summaryBase(plan), ...report.data, ...(curated ? { curation: curated.data } : {}) };
  const stop = result.interrupted ? undefined : curationStop(result, curation, options, { outDir: plan.outDir, resume, failureDetails: report.failureDetails });
  const error = endingError({ result, report, batch, backend: options.backend, resume, stop, memory });
  let polished: PolishFolderResult | undefined;
  if (prepared.polish && prepared.source.identity && !error) {
    const files = keptFiles(Object.values(output.opened.store.data.images));
    const run = { due: prepared.polish, outDir: plan.outDir, identity: prepared.source.identity, home, files, options, settings: req.settings, env: req.env, localGenerator: shared };
    polished = await faces(() => polishAfterRun(run, io));
    if (!polished.dryRun) batch.polish = polished.summary;
  }
  return { dryRun: false, plan, output, resume, context, report, batch, curated, polished, error };
}

interface RunInput extends Prepared {
  gate: CreateGate | undefined;
  rehearsal: RehearsalSource | undefined;
}

/** The engine run; Ctrl-C before anything landed is reported with the resume command. */
async function runPlan(req: GenerateRequest, run: RunInput, io: UseCaseIo<GenerateEvent>, watch: (event: RunEvent) => void): Promise<RunGenOutput> {
  const { options, settings } = req;
  const { runGeneration } = await import("../generation/run-plan.js");
  const start = (concurrency: number, tap?: (event: RunEvent) => void) =>
    runGeneration({
      plan: run.plan,
      backend: options.backend,
      concurrency,
      ref: options.ref ? resolve(req.cwd, options.ref) : undefined,
      trainedVersion: run.source.trainedVersion,
      identity: run.source.identity,
      local: {
        aiToolkitDir: settings.aiToolkitDir.value,
        aiToolkitPython: settings.aiToolkitPython,
        gpu: options.gpu,
        offload: options.offload,
        quantize: options.quantize,
      },
      env: req.env,
      home: settings.home.value,
      replicateBaseUrl: settings.replicateBaseUrl.value,
      signal: io.signal,
      onEvent: (event) => {
        watch(event);
        tap?.(event);
        io.onEvent(event);
      },
      now: io.now,
      gate: run.gate,
      rehearsal: run.rehearsal,
      keepGenerator: keepsGenerator(req, run),
    });
  try {
    const slots = req.inject?.runSlots;
    const complete = () => completeRun(run.plan, options.backend, run.gate);
    return await (slots ? slots(run.plan, start, complete) : start(run.concurrency));
  } catch (error) {
    if (error instanceof InterruptedError || io.signal.aborted) {
      throw new InterruptedError("Interrupted before any image was made.", { hint: `re-run to resume: ${run.resume}` });
    }
    throw error;
  }
}

/** The plan's identity for the --json summaries (dry run and real run). */
export function summaryBase(plan: GenPlan): Record<string, unknown> {
  return {
    preset: plan.preset,
    identity: plan.identity,
    model: plan.model,
    count: plan.images.length,
    seedBase: plan.seedBase,
    seedSource: plan.seedSource,
    outDir: plan.outDir,
  };
}
