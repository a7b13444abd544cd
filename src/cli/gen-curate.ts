/**
 * What `gen` does around and after its engine (issue 9): checks the selection flags
 * (`--keep-best`, `--min-similarity`, `--until`, `--max-count`, `--budget`, `--crops`), loads the
 * reference before anything is paid for, builds the `--until`/`--budget` gate (gen-until.ts), and
 * once the batch is over hands it to afterBatch (src/outputs/after-batch.ts): scores, keeps the
 * best, moves the rest to rejected/, cuts crops and writes index.html + contact-sheet.png.
 */
import { rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { IDENTITY_THRESHOLDS } from "../identity/calibration.js";
import { InterruptedError, UsageError, type HeadshotErrorOptions } from "../errors.js";
import type { EngineResult } from "../generation/engine.js";
import type { ManifestStore } from "../generation/manifest.js";
import type { GenPlan } from "../generation/plan.js";
import type { IdentityReference, ImageScore } from "../identity/scoring.js";
import type { AfterBatchResult } from "../outputs/after-batch.js";
import type { ScoreQueue } from "../identity/score-queue.js";
import type { GenCliOptions } from "./commands/gen.js";
import type { CommandContext } from "./context.js";
import { UntilGate } from "./gen-until.js";
import type { Reporter } from "./reporter.js";

/** `--max-count` when `--until K` is given without it. */
export const UNTIL_MAX_FACTOR = 3;
const REJECTED_DIR = "rejected";

/** Asking for scoring or selection: these need a person to compare with. */
function selecting(options: GenCliOptions): boolean {
  return options.keepBest !== undefined || options.minSimilarity !== undefined || options.until !== undefined || Boolean(options.crops);
}

/** Usage errors for flag combinations, before anything else runs. */
export function checkCurateFlags(options: GenCliOptions): void {
  if (options.score === false && selecting(options)) {
    throw new UsageError("--no-score cannot be combined with --keep-best, --min-similarity, --until or --crops: they pick images by their score", {
      code: "E_GEN_FLAGS",
      hint: "drop --no-score, or drop the selection flags",
    });
  }
  if (selecting(options) && !options.identity && !options.ref) {
    const flag = options.until !== undefined ? "--until" : options.keepBest !== undefined ? "--keep-best" : options.minSimilarity !== undefined ? "--min-similarity" : "--crops";
    throw new UsageError(`${flag} scores each image against your selfies, so it needs --identity <name> or --ref <dir>`, {
      code: "E_GEN_NO_REFERENCE",
      hint: "add --identity <name> (headshot identities list) or --ref <dir with your selfies>",
    });
  }
  if (options.maxCount !== undefined && options.until === undefined) {
    throw new UsageError("--max-count caps --until; without --until use --count", { code: "E_GEN_FLAGS", hint: "add --until <k>, or use --count <n>" });
  }
  if (options.until !== undefined && options.count !== undefined) {
    throw new UsageError("--until plans --max-count images and stops once enough pass; --count does not apply", {
      code: "E_GEN_FLAGS",
      hint: `drop --count and pass --max-count <n> (default ${UNTIL_MAX_FACTOR} x --until)`,
    });
  }
  if (options.until !== undefined && options.maxCount !== undefined && options.maxCount < options.until) {
    throw new UsageError(`--max-count ${options.maxCount} is below --until ${options.until}`, { code: "E_GEN_FLAGS", hint: "raise --max-count or lower --until" });
  }
}

/** How many images to plan: `--max-count` (or 3 x K) with --until, else undefined (the usual rules). */
export function untilPlanCount(options: GenCliOptions): number | undefined {
  if (options.until === undefined) return undefined;
  return options.maxCount ?? Math.min(1000, options.until * UNTIL_MAX_FACTOR);
}

/** The selection flags, for the resume command. */
export function curateResumeArgs(options: GenCliOptions): string[] {
  const args: string[] = [];
  if (options.until !== undefined) args.push("--until", String(options.until), "--max-count", String(untilPlanCount(options)));
  if (options.keepBest !== undefined) args.push("--keep-best", String(options.keepBest));
  if (options.minSimilarity !== undefined) args.push("--min-similarity", String(options.minSimilarity));
  if (options.budget !== undefined) args.push("--budget", String(options.budget));
  if (options.crops) args.push("--crops");
  return args;
}

export interface Curation {
  reference: IdentityReference | undefined;
  gate: UntilGate | undefined;
  /** Plain `gen --identity/--ref`: scores each image as it lands (src/identity/score-queue.ts). */
  queue?: ScoreQueue | undefined;
}

/** The pipelined scorer for a plain scored batch, or undefined (not scoring, placeholders, no reference yet). */
async function scoreQueueFor(ctx: CommandContext, options: GenCliOptions, plan: GenPlan, home: string, reference: IdentityReference | undefined): Promise<ScoreQueue | undefined> {
  if (options.score === false || options.backend === "test" || !(options.identity || options.ref)) return undefined;
  let ref = reference;
  if (!ref) {
    try {
      const { loadReference } = await import("../identity/scoring-reference.js");
      ref = await loadReference({ home, ...(options.identity ? { identity: options.identity } : { selfies: resolve(ctx.cwd, options.ref!) }), signal: ctx.signal });
    } catch (error) {
      // finishCuration reports it (scoring is a bonus for a plain batch).
      if (error instanceof UsageError) return undefined;
      throw error;
    }
  }
  const { ScoreQueue } = await import("../identity/score-queue.js");
  return new ScoreQueue(ref, { outDir: plan.outDir, home, signal: ctx.signal });
}

/**
 * Loads the reference up front when the flags need it, so a missing selfie summary is a usage
 * error before anything is paid for; builds the gate for --until / --budget.
 */
export async function prepareCuration(ctx: CommandContext, options: GenCliOptions, plan: GenPlan, home: string): Promise<Curation> {
  let reference: IdentityReference | undefined;
  if (selecting(options)) {
    const { loadReference } = await import("../identity/scoring-reference.js");
    reference = await loadReference({ home, ...(options.identity ? { identity: options.identity } : { selfies: resolve(ctx.cwd, options.ref!) }), signal: ctx.signal });
  }
  if (options.until === undefined && options.budget === undefined) return { reference, gate: undefined, queue: await scoreQueueFor(ctx, options, plan, home, reference) };
  const { PRICE_TABLE } = await import("../generation/prices.js");
  const { priceKey } = await import("../generation/run-gen.js");
  const reporter = ctx.reporter;
  const gate = new UntilGate({
    target: options.until,
    maxCount: plan.images.length,
    budgetUsd: options.budget,
    priceUsd: PRICE_TABLE.entries[priceKey(plan.model)].perImageUsd,
    reference,
    outDir: plan.outDir,
    home,
    minSimilarity: options.minSimilarity,
    onScored: (file, score, passed) => {
      const likeness = score.relative !== undefined ? `${Math.round(score.relative * 100)}%` : "-";
      if (reporter.json) reporter.event("gen.scored", { file, faces: score.faces, relative: score.relative ?? null, verdict: score.verdict, passed });
      else reporter.debug(`scored ${file}: ${likeness} ${score.verdict}${passed ? " (passes)" : ""}`);
    },
  });
  return { reference, gate };
}

/**
 * A re-run decides the selection again over every image (a new --keep-best, or images this run
 * added): what an earlier run set aside goes back to the top of the folder first.
 */
async function restoreSetAside(store: ManifestStore, outDir: string, scored: Map<string, ImageScore> | undefined): Promise<void> {
  for (const entry of Object.values(store.data.images)) {
    if (entry.status !== "done" || !entry.file?.startsWith(`${REJECTED_DIR}/`)) continue;
    const name = entry.file.slice(REJECTED_DIR.length + 1);
    const sidecar = name.replace(/\.[^./]+$/, ".json");
    await rename(join(outDir, entry.file), join(outDir, name));
    await rename(join(outDir, REJECTED_DIR, sidecar), join(outDir, sidecar)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "ENOENT") throw error;
    });
    const score = scored?.get(entry.file);
    if (score && scored) {
      scored.delete(entry.file);
      scored.set(name, { ...score, file: name, path: join(outDir, name) });
    }
    await store.update(entry.key, (e) => {
      e.file = name;
      e.sidecar = sidecar;
      delete e.kept;
      delete e.rejectedReason;
    });
  }
}

/**
 * Whether to curate now: after a whole batch (a partial one is curated by the re-run that
 * completes it), or whatever --until / --budget chose to make; never after Ctrl-C or a batch
 * that could not start.
 */
export function curationDue(result: EngineResult, curation: Curation, options: GenCliOptions): boolean {
  if (result.interrupted || (result.fatal && result.finished === 0)) return false;
  // Images --until / --budget chose not to make are not missing.
  const unmade = curation.gate?.stopped ? result.entries.filter((e) => e.status === "planned").length : 0;
  const landed = result.entries.filter((e) => e.status === "done").length;
  return options.until !== undefined || landed + unmade === result.total;
}

/**
 * How --until / --budget end a run that was not interrupted: "ok" (K reached: exit 0 even if some
 * images failed), a JobFailedError's message and options (exit 5), or undefined (the usual rules).
 */
export function curationStop(
  result: EngineResult,
  curation: Curation,
  options: GenCliOptions,
  context: { outDir: string; resume: string; failureDetails: string[] },
): "ok" | { message: string; options: HeadshotErrorOptions & { code: string } } | undefined {
  const gate = curation.gate;
  if (!gate || result.interrupted) return undefined;
  if (options.until !== undefined) {
    if (gate.passed >= options.until) return "ok";
    return {
      message: `--until ${options.until}: ${gate.stopped?.message ?? `only ${gate.passed} of ${options.until} images look like you`}`,
      options: {
        code: "E_GEN_UNTIL_SHORT",
        details: context.failureDetails.filter((d) => !/: planned$/.test(d)),
        hint: `look at the gallery (${join(context.outDir, "index.html")}); raise --max-count or --budget and re-run to go on from here, or lower --min-similarity`,
      },
    };
  }
  if (!gate.stopped) return undefined;
  const unmade = result.entries.filter((e) => e.status === "planned").length;
  return {
    message: `${unmade} of ${result.total} images were not made: ${gate.stopped.message}`,
    options: { code: "E_GEN_BUDGET", hint: `raise --budget and re-run to make the rest: ${context.resume}` },
  };
}

export interface CurationOutcome {
  result: AfterBatchResult;
  lines: string[];
  data: Record<string, unknown>;
}

const pct = (r: number | undefined): string => (r === undefined ? "-" : `${Math.round(r * 100)}%`);

/** After the engine: score, select, move, crop, and write the gallery and contact sheet. */
export async function finishCuration(
  ctx: CommandContext,
  curation: Curation,
  run: { plan: GenPlan; store: ManifestStore; placeholder: boolean; home: string; options: GenCliOptions; resume: string },
): Promise<CurationOutcome> {
  const { plan, store, options } = run;
  const { afterBatch } = await import("../outputs/after-batch.js");
  const { REJECT_MESSAGES } = await import("../outputs/rejected.js");
  const reporter = ctx.reporter;
  const scored = curation.gate?.scores ?? (await curation.queue?.drain());
  // Placeholders have no face: scoring them would only set every one aside.
  let compare = options.score !== false && !run.placeholder && Boolean(options.identity || options.ref);
  const warnings: string[] = [...(curation.gate?.warnings ?? []), ...(curation.queue?.warnings ?? [])];
  if (run.placeholder && selecting(options)) warnings.push("--backend test makes placeholders without faces: nothing was scored or set aside");
  if (compare && !curation.reference) {
    // Plain `gen --identity`: scoring is a bonus; an identity without a selfie summary or dataset
    // still gets its gallery, unscored.
    try {
      const { loadReference } = await import("../identity/scoring-reference.js");
      await loadReference({ home: run.home, ...(options.identity ? { identity: options.identity } : { selfies: resolve(ctx.cwd, options.ref!) }), signal: ctx.signal });
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      warnings.push(`not scored: ${error.message}${error.hint ? ` (${error.hint})` : ""}`);
      compare = false;
    }
  }
  const select = compare && (options.keepBest !== undefined || options.minSimilarity !== undefined || options.until !== undefined);
  if (select) await restoreSetAside(store, plan.outDir, scored);
  const entries = plan.images.map((image) => store.entry(image.key)).filter((e) => e !== undefined);
  const progress = reporter.json || !compare ? undefined : reporter.progress("Scoring likeness");
  let result: AfterBatchResult;
  try {
    result = await afterBatch(entries, store, {
      outDir: plan.outDir,
      home: run.home,
      ...(compare && options.identity ? { identity: options.identity } : {}),
      ...(compare && options.ref ? { selfies: resolve(ctx.cwd, options.ref) } : {}),
      ...(options.keepBest !== undefined ? { keep: options.keepBest } : {}),
      // --until keeps what passes: the minimum applies even when not given.
      ...(options.minSimilarity !== undefined || options.until !== undefined ? { minSimilarity: options.minSimilarity ?? IDENTITY_THRESHOLDS.match } : {}),
      crops: Boolean(options.crops),
      title: `${plan.identity?.name ?? "headshots"} · ${plan.preset.name}`,
      ...(scored ? { scored } : {}),
      signal: ctx.signal,
      ...(progress ? { onProgress: (done: number, total: number) => progress.update(`Scoring likeness: ${done}/${total}`) } : {}),
    });
  } catch (error) {
    if (error instanceof InterruptedError || ctx.signal.aborted) {
      throw new InterruptedError("Interrupted while scoring: every image is made and saved.", { hint: `re-run to score and select: ${run.resume}` });
    }
    throw error;
  } finally {
    progress?.stop();
  }
  await store.commit();
  warnings.push(...result.warnings);
  for (const w of warnings) reporter.warn(w);
  return { result, lines: describeCuration(result, plan.outDir, reporter, select, REJECT_MESSAGES), data: curationData(result, curation.gate, options) };
}

function describeCuration(result: AfterBatchResult, outDir: string, reporter: Reporter, select: boolean, messages: Record<string, string>): string[] {
  const s = reporter.style.bind(reporter);
  const lines: string[] = [];
  if (result.scored) {
    const kept = result.images.filter((i) => i.kept).sort((a, b) => b.score.rank - a.score.rank);
    lines.push(s("bold", select ? `Kept ${kept.length} of ${result.images.length}, best first:` : `Likeness, best first (${kept.length} of ${result.images.length} look like you):`));
    for (const image of kept) {
      lines.push(`  ${image.file}  ${pct(image.score.relative)} ${image.score.verdict}${image.crops.length ? s("dim", `  + ${image.crops.length} crops`) : ""}`);
    }
    const aside = result.images.filter((i) => !i.kept);
    if (aside.length) {
      lines.push(select ? `  ${aside.length} set aside in ${join(outDir, REJECTED_DIR)}/ (scores in their sidecars):` : `  ${aside.length} below the bar (dimmed in the gallery):`);
      for (const image of aside) {
        const why = image.reason ? `: ${messages[image.reason] ?? image.reason}` : "";
        lines.push(s("dim", `    ${image.file}  ${pct(image.score.relative)} ${image.score.verdict}${why}`));
      }
    }
  }
  lines.push(`Gallery: ${result.galleryPath}  (contact sheet: ${result.contactSheetPath})`);
  return lines;
}

function curationData(result: AfterBatchResult, gate: UntilGate | undefined, options: GenCliOptions): Record<string, unknown> {
  return {
    scored: result.scored,
    kept: result.kept,
    setAside: result.setAside,
    gallery: result.galleryPath,
    contactSheet: result.contactSheetPath,
    ...(options.until !== undefined && gate ? { until: { target: options.until, passed: gate.passed, reached: gate.passed >= options.until, stoppedBy: gate.stopped?.reason ?? null } } : {}),
    ...(gate?.stopped?.reason === "budget" ? { budget: { usd: options.budget, spentUsd: Math.round(gate.spentUsd() * 1000) / 1000 } } : {}),
    curated: result.images.map((i) => ({ key: i.key ?? null, file: i.file, kept: i.kept, reason: i.reason ?? null, relative: i.score.relative ?? null, verdict: i.score.verdict, crops: i.crops.map((c) => c.file) })),
  };
}
