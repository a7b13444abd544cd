/** The `gen` use case behind the thin command file: plan, then dry-run or generate. */
import { basename, dirname, join, resolve } from "node:path";
import { readFile } from "node:fs/promises";
import { InterruptedError, JobFailedError, UsageError, type HeadshotErrorOptions } from "../errors.js";
import { closest } from "../util/did-you-mean.js";
import type { RunEvent } from "../generation/run-gen.js";
import type { LocalRunEvent } from "../generation/local/backend-setup.js";
import { jsonWorthy, renderLocalEvent } from "../generation/local/cli-view.js";
import { checkLocalFlags, localResumeArgs } from "../generation/local/cli-options.js";
import { oomHint } from "../generation/local/local-errors.js";
import type { MemoryMode } from "../generation/local/memory-mode.js";
import { progressLine, summarizeRun } from "../generation/run-summary.js";
import { normaliseLoraUrl, recordedLoraUrl, trainedVersionOf, loraNotHostedError, type IdentityLike } from "../generation/lora-source.js";
import { preparePlan, type GenOptions } from "../generation/prepare-plan.js";
import type { GenPlan } from "../generation/plan.js";
import type { CommandContext } from "./context.js";
import type { GenCliOptions } from "./commands/gen.js";
import { checkCurateFlags, curateResumeArgs, curationDue, curationStop, finishCuration, prepareCuration, untilPlanCount } from "./gen-curate.js";
import { renderPlan } from "./plan-view.js";
import type { ProgressHandle, Reporter } from "./reporter.js";

export const DEFAULT_CONCURRENCY = 6;

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

/** The generation run failed for some images; carries the batch numbers into the --json summary. */
export class BatchIncompleteError extends JobFailedError {
  constructor(
    message: string,
    readonly batch: Record<string, unknown>,
    options: HeadshotErrorOptions & { code?: string } = {},
  ) {
    super(message, { code: "E_GEN_INCOMPLETE", ...options });
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), batch: this.batch };
  }
}

interface ResolvedSource {
  identity: IdentityLike | undefined;
  genIdentity: GenOptions["identity"];
  loraUrl: string | undefined;
  trainedVersion: string | undefined;
}

/** Applies the LoRA source rules (README "Backends"): what each backend needs from the identity. */
async function resolveSource(ctx: CommandContext, home: string, options: GenCliOptions): Promise<ResolvedSource> {
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
    const name = `ref-${basename(resolve(ctx.cwd, options.ref)).replace(/[^A-Za-z0-9_-]/g, "-")}`;
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
  const trainedOn = identity.backend === "replicate" ? "replicate" : "local";
  const trainedVersion = trainedVersionOf(identity);
  let loraUrl = loraFlag ?? recordedLoraUrl(identity);
  if (options.backend === "replicate" && !loraUrl) {
    if (trainedOn === "replicate" && trainedVersion && options.model === "flux-dev-lora") {
      // The destination model as lora_weights of the official endpoint (replicate.md 4.3), pinned.
      const [owner, rest] = trainedVersion.split("/");
      const [modelName, hex] = (rest ?? "").split(":");
      loraUrl = `${owner}/${modelName}/${hex}`;
    } else if (trainedOn === "local" && !options.dryRun) {
      throw loraNotHostedError(identity);
    }
  }
  return {
    identity,
    genIdentity: { name: identity.name, trigger: identity.trigger, classWord: identity.classWord, trainedOn },
    loraUrl,
    trainedVersion,
  };
}

/** Quotes a shell argument only when it needs it. */
function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The command that resumes this batch: the same options, with the output folder made explicit. */
export function resumeCommand(options: GenCliOptions, plan: GenPlan): string {
  const args = ["headshot", "gen", "--preset", options.preset];
  if (options.identity) args.push("--identity", options.identity);
  if (options.ref) args.push("--ref", options.ref);
  if (options.count !== undefined) args.push("--count", String(options.count));
  args.push("--seed", String(plan.seedBase));
  args.push("--out", plan.outDir);
  for (const set of options.set ?? []) args.push("--set", set);
  if (options.format) args.push("--format", options.format);
  if (options.backend !== "replicate") args.push("--backend", options.backend);
  if (options.model) args.push("--model", options.model);
  if (options.loraUrl) args.push("--lora-url", options.loraUrl);
  if (options.concurrency !== undefined) args.push("--concurrency", String(options.concurrency));
  args.push(...localResumeArgs(options));
  args.push(...curateResumeArgs(options));
  return args.map(shellQuote).join(" ");
}

/**
 * Renders engine events: NDJSON events with --json; a live progress line (spinner on a TTY,
 * throttled plain lines otherwise) plus warnings for people.
 */
class GenProgressView {
  private progress: ProgressHandle | undefined;
  private readonly placeholder: boolean;
  private line = "Generating";
  /** --backend local: the memory mode in use, for the out-of-memory hint. */
  memory: MemoryMode | undefined;

  constructor(
    private readonly reporter: Reporter,
    backend: string,
  ) {
    this.placeholder = backend === "test";
  }

  onEvent(event: RunEvent): void {
    const { type, ...data } = event;
    if (type.startsWith("gen.local.")) return this.onLocalEvent(event as LocalRunEvent);
    if (this.reporter.json) {
      this.reporter.event(type === "progress" ? "gen.progress" : type, data);
      return;
    }
    switch (event.type) {
      case "batch.opened":
        if (event.resumed) this.reporter.info(`Resuming the batch in ${event.manifest}: ${event.remaining} image${event.remaining === 1 ? "" : "s"} left.`);
        for (const repair of event.repairs) this.reporter.debug(`repaired: ${repair}`);
        if (this.placeholder) this.reporter.warn("--backend test makes labelled PLACEHOLDER images, not photos of anyone.");
        break;
      case "references":
        this.reporter.info(`${event.reused ? "Reusing" : "Using"} ${event.picked.length} reference photo${event.picked.length === 1 ? "" : "s"}: ${event.picked.map((p) => p.file).join(", ")}`);
        for (const s of event.skipped) this.reporter.debug(`  not used: ${s.file} (${s.reason})`);
        break;
      case "progress":
        this.line = progressLine(event, this.placeholder);
        this.showProgress(this.line);
        break;
      case "image.retry":
        this.reporter.debug(`${event.key}: attempt ${event.attempt} ${event.kind} (${event.code}): ${event.message}; retrying`);
        break;
      case "image.failed":
      case "image.filtered":
        if (!this.reporter.interactive) this.reporter.warn(`${event.key}: ${event.message}`);
        break;
      case "image.done":
        this.reporter.debug(`wrote ${event.file}`);
        break;
      default:
        break;
    }
  }

  /** --backend local: GPU, memory mode, loading lines; the denoising step joins the progress line. */
  private onLocalEvent(event: LocalRunEvent): void {
    if (event.type === "gen.local.memory") this.memory = { ...event };
    if (this.reporter.json) {
      const { type, ...data } = event;
      if (jsonWorthy(event)) this.reporter.event(type, data);
      return;
    }
    const step = renderLocalEvent(this.reporter, event);
    if (step) this.showProgress(`${this.line} · ${step}`);
  }

  private showProgress(text: string): void {
    if (!this.progress) this.progress = this.reporter.progress(text);
    else this.progress.update(text);
  }

  stop(): void {
    this.progress?.stop();
    this.progress = undefined;
  }
}

function summaryBase(plan: GenPlan): Record<string, unknown> {
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

export async function runGenCommand(ctx: CommandContext, options: GenCliOptions): Promise<void> {
  checkLocalFlags(options);
  checkCurateFlags(options);
  const settings = await ctx.settings(options.aiToolkit !== undefined ? { aiToolkit: options.aiToolkit } : {});
  const home = settings.home.value;
  const config = settings.projectConfig;
  const source = await resolveSource(ctx, home, options);
  // One GPU makes one image at a time; remote backends run `concurrency` predictions at once.
  const concurrency = options.backend === "local" ? 1 : (options.concurrency ?? config?.defaults?.concurrency ?? DEFAULT_CONCURRENCY);
  const genOptions: GenOptions = {
    preset: options.preset,
    identity: source.genIdentity,
    count: untilPlanCount(options) ?? options.count ?? config?.defaults?.count,
    seed: options.seed,
    // A relative `out:` in the project config is relative to that file, not to the cwd.
    out: options.out ?? (config?.out && settings.projectConfigPath ? resolve(dirname(settings.projectConfigPath), config.out) : undefined),
    set: options.set,
    format: options.format ?? config?.defaults?.format,
    backend: options.backend,
    model: options.model ?? config?.defaults?.model,
    ref: options.ref,
    loraUrl: source.loraUrl,
    concurrency,
  };
  const { readManifest } = await import("../generation/manifest.js");
  const plan = await preparePlan(genOptions, {
    cwd: ctx.cwd,
    presetDirs: settings.presetDirs,
    readRecordedSeedBase: async (outDir) => (await readManifest(outDir).catch(() => undefined))?.batch.seedBase,
  });
  if (options.dryRun) {
    for (const image of plan.images) ctx.reporter.event("plan.image", { ...image });
    ctx.reporter.result(renderPlan(plan, ctx.reporter));
    ctx.reporter.summary({ dryRun: true, ...summaryBase(plan), estimates: plan.estimates, priceTable: plan.priceTable });
    return;
  }

  const { runGeneration } = await import("../generation/run-gen.js");
  const view = new GenProgressView(ctx.reporter, options.backend);
  const resume = resumeCommand(options, plan);
  // Before anything is paid for: the reference the flags need, and the --until / --budget gate.
  const curation = await prepareCuration(ctx, options, plan, home);
  let output;
  try {
    output = await runGeneration({
      plan,
      backend: options.backend,
      concurrency,
      ref: options.ref ? resolve(ctx.cwd, options.ref) : undefined,
      trainedVersion: source.trainedVersion,
      identity: source.identity,
      local: {
        aiToolkitDir: settings.aiToolkitDir.value,
        aiToolkitPython: settings.aiToolkitPython,
        gpu: options.gpu,
        offload: options.offload,
        quantize: options.quantize,
      },
      env: ctx.env,
      home,
      replicateBaseUrl: settings.replicateBaseUrl.value,
      signal: ctx.signal,
      onEvent: (event) => view.onEvent(event),
      now: () => ctx.now(),
      gate: curation.gate ?? curation.queue,
    });
  } catch (error) {
    view.stop();
    if (error instanceof InterruptedError || ctx.signal.aborted) {
      throw new InterruptedError("Interrupted before any image was made.", { hint: `re-run to resume: ${resume}` });
    }
    throw error;
  }
  view.stop();
  const { result, modelRef, references } = output;
  const curated = curationDue(result, curation, options)
    ? await finishCuration(ctx, curation, { plan, store: output.opened.store, placeholder: output.generator.placeholder, home, options, resume })
    : undefined;
  const summary = summarizeRun(
    result,
    { plan, modelRef, backend: options.backend, placeholder: output.generator.placeholder, resume, references, manifest: output.opened.store.path },
    ctx.reporter.style.bind(ctx.reporter),
  );
  ctx.reporter.result([...summary.lines, ...(curated?.lines ?? [])].join("\n"));
  const batch = { dryRun: false, ...summaryBase(plan), ...summary.data, ...(curated ? { curation: curated.data } : {}) };
  if (result.interrupted) {
    throw new InterruptedError(`Interrupted: ${summary.data.done} of ${result.total} images are done; the manifest is saved.`, {
      details: summary.interruptDetails,
      hint:
        options.backend === "local"
          ? `re-run the same command to resume; finished images are kept: ${resume}`
          : `re-run the same command to resume (within an hour, so running predictions can still be collected): ${resume}`,
    });
  }
  if (result.fatal && result.finished === 0) {
    // Nothing could run at all (token, credit, invalid input): the API error itself, exit 4.
    throw result.fatal;
  }
  const stop = curationStop(result, curation, options, { outDir: plan.outDir, resume, failureDetails: summary.failureDetails });
  if (stop === "ok") return ctx.reporter.summary(batch);
  if (stop) throw new BatchIncompleteError(stop.message, batch, stop.options);
  if (summary.data.done !== result.total) {
    // GPU out of memory: the same advice as training, naming the switch that helps (local-errors.ts).
    const oom = view.memory && result.entries.some((e) => e.status !== "done" && e.error?.code === "E_LOCAL_GEN_OOM");
    const fix = oom && view.memory ? `${oomHint(view.memory)} Then` : "fix what is listed above if needed, then";
    throw new BatchIncompleteError(`${result.total - (summary.data.done as number)} of ${result.total} images did not land`, batch, {
      details: summary.failureDetails,
      hint: `${fix} re-run to make only what is missing: ${resume}`,
    });
  }
  ctx.reporter.summary(batch);
}
