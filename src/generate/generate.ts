/**
 * The `gen` use case: subject and LoRA source -> plan -> engine (with the --until / --budget gate)
 * -> curation -> how it ended. Plain input and {signal, onEvent, now}; no terminal, no argv. The
 * `gen` command renders its events (src/cli/views/gen.ts).
 */
import { basename, dirname, join, resolve } from "node:path";
import { readFile } from "node:fs/promises";
import { InterruptedError, UsageError, type HeadshotError } from "../errors.js";
import type { CreateGate } from "../generation/engine.js";
import type { RunEvent, RunGenOutput } from "../generation/run-plan.js";
import type { MemoryMode } from "../generation/local/memory-mode.js";
import { preparePlan, type GenOptions } from "../generation/prepare-plan.js";
import type { GenPlan } from "../generation/plan.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import { resolveGenDefaults, type GenDefaults } from "../settings/command-defaults.js";
import type { UseCaseIo } from "../use-case.js";
import { closest } from "../util/did-you-mean.js";
import { curationDue, curationStop, finishCuration, prepareCuration, type CurationEvent, type CurationOutcome } from "./curation-step.js";
import { loraSourceFor, normaliseLoraUrl, type IdentityLike } from "../generation/lora-source.js";
import { checkGenerateOptions, DEFAULT_CONCURRENCY, resumeCommand, untilPlanCount, type GenerateOptions } from "./options.js";
import type { RehearsalSource } from "../generation/rehearsal/compose.js";
import { identityHomeFor, missingForRealRun, rehearsalFor } from "./rehearsal.js";
import { endingError, reportRun, type RunContext, type RunReport } from "./outcome.js";
import { withOutputFolder, type LockTakeoverEvent } from "./output-lock.js";

/** `rehearsal.ready`: --backend test with a person draws previews from their selfies (rehearsal.ts). */
export type GenerateEvent = RunEvent | CurationEvent | LockTakeoverEvent | { type: "rehearsal.ready"; source: string };

export interface GenerateRequest {
  options: GenerateOptions;
  /** Where relative paths (--ref, --out, preset files) resolve. */
  cwd: string;
  settings: GlobalSettings;
  env: Env;
  /**
   * Leave the generator open in `output.generator` for the caller to use and close (gen --polish
   * --backend local: the face pass reuses the loaded model). Closed here when the run throws.
   */
  keepGenerator?: boolean | undefined;
}

export type GenerateResult =
  | { dryRun: true; plan: GenPlan; /** What a real run of these options lacks (a person). */ missing?: string | undefined }
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
      /** Set when the run did not fully land (exit code and hint); the caller shows the summary first. */
      error: HeadshotError | undefined;
    };

/**
 * Reads a registered identity through the registry (src/identity/registry.ts). gen needs only the
 * words, the backend and where the LoRA lives, so a record the registry finds incomplete (an older
 * or hand-written identity.json) is still used when it has a trigger and a class word.
 */
export async function lookupIdentity(home: string, name: string): Promise<IdentityLike> {
  const { findIdentity, listIdentities } = await import("../identity/registry.js");
  try {
    const found = await findIdentity(home, name);
    if (found) return found as unknown as IdentityLike;
  } catch (error) {
    if (!(error instanceof UsageError && error.code === "E_IDENTITY_CORRUPT")) throw error;
    const raw = await readFile(join(home, "identities", name, "identity.json"), "utf8").catch(() => "");
    let data: Record<string, unknown> | undefined;
    try {
      data = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      data = undefined;
    }
    const classWord = data?.classWord ?? data?.class;
    if (data && typeof data.trigger === "string" && typeof classWord === "string") return { ...data, name, trigger: data.trigger, classWord };
    throw error;
  }
  const { identities } = await listIdentities(home);
  const guess = closest(name, identities.map((i) => i.name));
  throw new UsageError(`Unknown identity "${name}"`, {
    code: "E_IDENTITY_NOT_FOUND",
    hint: `${guess ? `did you mean ${guess}? ` : ""}train it first (headshot train ./selfies --name ${name}), or list them with: headshot identities list`,
  });
}

/** Words that stand for the person in reference mode (there is no trained trigger token). */
export const REFERENCE_SUBJECT = { trigger: "the", classWord: "person shown in the reference images" } as const;

interface ResolvedSource {
  identity: IdentityLike | undefined;
  genIdentity: GenOptions["identity"];
  loraUrl: string | undefined;
  trainedVersion: string | undefined;
}

/** Applies the LoRA source rules (README "Backends"): what each backend needs from the identity. */
async function resolveSource(cwd: string, home: string, options: GenerateOptions): Promise<ResolvedSource> {
  if (options.ref && options.identity) {
    throw new UsageError("Use either --identity (a trained LoRA) or --ref (reference photos, no training), not both", {
      code: "E_GEN_MODE",
      hint: "drop --ref to use the trained identity, or drop --identity to generate from the photos in --ref",
    });
  }
  if (options.ref && options.backend !== "replicate" && options.backend !== "test") {
    throw new UsageError("--ref (reference mode) runs on Replicate's FLUX.2 models", { code: "E_GEN_MODE", hint: "use --backend replicate with --ref" });
  }
  if (options.ref) {
    const name = `ref-${basename(resolve(cwd, options.ref)).replace(/[^A-Za-z0-9_-]/g, "-")}`;
    return { identity: undefined, genIdentity: { name, ...REFERENCE_SUBJECT }, loraUrl: undefined, trainedVersion: undefined };
  }
  const identity = options.identity ? await lookupIdentity(home, options.identity) : undefined;
  const loraFlag = options.loraUrl ? normaliseLoraUrl(options.loraUrl) : undefined;
  if (!identity) {
    if (options.backend === "replicate" && !options.dryRun) {
      throw new UsageError("gen on Replicate needs a person: --identity <name> (trained LoRA) or --ref <dir> (reference photos)", {
        code: "E_GEN_NO_SUBJECT",
        hint: "headshot identities list shows trained identities; or try the free placeholders with --backend test",
      });
    }
    return { identity: undefined, genIdentity: undefined, loraUrl: loraFlag, trainedVersion: undefined };
  }
  const { trainedOn, trainedVersion, loraUrl } = loraSourceFor(identity, { backend: options.backend, model: options.model, loraFlag, dryRun: options.dryRun });
  return {
    identity,
    genIdentity: { name: identity.name, trigger: identity.trigger, classWord: identity.classWord, trainedOn },
    loraUrl,
    trainedVersion,
  };
}

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
  const { options, settings } = req;
  checkGenerateOptions(options);
  // A rehearsal identity (train --backend test) lives in its own registry: see rehearsal.ts.
  const home = await identityHomeFor(settings.home.value, options);
  const source = await resolveSource(req.cwd, home, options);
  const defaults = generateDefaults(options, settings);
  const concurrency = defaults.concurrency.value;
  const { readManifest } = await import("../generation/manifest.js");
  const plan = await preparePlan(planOptions(req, source, defaults), {
    cwd: req.cwd,
    presetDirs: settings.presetDirs,
    readRecordedSeedBase: async (outDir) => (await readManifest(outDir).catch(() => undefined))?.batch.seedBase,
  });
  if (options.dryRun) return { dryRun: true, plan, missing: missingForRealRun(options) };

  const resume = resumeCommand(options, plan);
  // One run per output folder, taken before anything is requested or paid for (issue 14, S3).
  return withOutputFolder(plan.outDir, resume, io.onEvent, () => generateLocked(req, io, { plan, source, concurrency, resume, home }));
}

async function generateLocked(
  req: GenerateRequest,
  io: UseCaseIo<GenerateEvent>,
  { plan, source, concurrency, resume, home }: { plan: GenPlan; source: ResolvedSource; concurrency: number; resume: string; home: string },
): Promise<GenerateResult> {
  const { options } = req;
  const place = { cwd: req.cwd, home };
  // Before anything is paid for: the reference the flags need, and the --until / --budget gate.
  const curation = await prepareCuration(options, plan, place, io);
  const rehearsal = await rehearsalFor(options, place, io.signal);
  if (rehearsal) io.onEvent({ type: "rehearsal.ready", source: rehearsal.label });
  let memory: MemoryMode | undefined;
  const output = await runPlan(req, { plan, source, concurrency, resume, gate: curation.gate ?? curation.queue, rehearsal }, io, (event) => {
    if (event.type === "gen.local.memory") memory = { ...event };
  });
  try {
    return await afterRun(req, io, { plan, source, concurrency, resume, home }, { output, curation, rehearsal, memory });
  } catch (error) {
    if (req.keepGenerator) await output.generator.close();
    throw error;
  }
}

async function afterRun(
  req: GenerateRequest,
  io: UseCaseIo<GenerateEvent>,
  { plan, resume, home }: { plan: GenPlan; source: ResolvedSource; concurrency: number; resume: string; home: string },
  { output, curation, rehearsal, memory }: { output: RunGenOutput; curation: Awaited<ReturnType<typeof prepareCuration>>; rehearsal: RehearsalSource | undefined; memory: MemoryMode | undefined },
): Promise<GenerateResult> {
  const { options } = req;
  const place = { cwd: req.cwd, home };
  const { result } = output;
  const curated = curationDue(result, curation, options)
    ? await finishCuration(curation, { plan, store: output.opened.store, placeholder: output.generator.placeholder, rehearsal: Boolean(rehearsal), place, options, resume }, io)
    : undefined;
  const context: RunContext = { plan, modelRef: output.modelRef, backend: options.backend, placeholder: output.generator.placeholder, rehearsal: Boolean(rehearsal), resume, references: output.references, manifest: output.opened.store.path };
  const report = reportRun(result, context);
  const batch = { dryRun: false, ...summaryBase(plan), ...report.data, ...(curated ? { curation: curated.data } : {}) };
  const stop = result.interrupted ? undefined : curationStop(result, curation, options, { outDir: plan.outDir, resume, failureDetails: report.failureDetails });
  const error = endingError({ result, report, batch, backend: options.backend, resume, stop, memory });
  return { dryRun: false, plan, output, resume, context, report, batch, curated, error };
}

interface RunInput {
  plan: GenPlan;
  source: ResolvedSource;
  concurrency: number;
  resume: string;
  gate: CreateGate | undefined;
  rehearsal: RehearsalSource | undefined;
}

/** The engine run; Ctrl-C before anything landed is reported with the resume command. */
async function runPlan(req: GenerateRequest, run: RunInput, io: UseCaseIo<GenerateEvent>, watch: (event: RunEvent) => void): Promise<RunGenOutput> {
  const { options, settings } = req;
  const { runGeneration } = await import("../generation/run-plan.js");
  try {
    return await runGeneration({
      plan: run.plan,
      backend: options.backend,
      concurrency: run.concurrency,
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
        io.onEvent(event);
      },
      now: io.now,
      gate: run.gate,
      rehearsal: run.rehearsal,
      keepGenerator: req.keepGenerator,
    });
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
