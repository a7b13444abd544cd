/**
 * What `gen` does around and after its engine (issue 9) for the selection flags (`--keep-best`,
 * `--min-similarity`, `--until`, `--max-count`, `--budget`, `--crops`; checked in options.ts): loads the
 * reference before anything is paid for, builds the `--until`/`--budget` gate (until-gate.ts), and
 * once the batch is over hands it to afterBatch (src/curation/after-batch.ts): scores, keeps the
 * best, moves the rest to rejected/, cuts crops and writes index.html + contact-sheet.png.
 */
import { rename } from "node:fs/promises";
import { join, resolve } from "node:path";
import { InterruptedError, UsageError } from "../errors.js";
import { IDENTITY_THRESHOLDS } from "../scoring/calibration.js";
import type { EngineResult } from "../generation/engine.js";
import type { ManifestStore } from "../generation/manifest.js";
import type { GenPlan } from "../generation/plan.js";
import type { IdentityReference, ImageScore } from "../scoring/similarity.js";
import type { AfterBatchResult } from "../curation/after-batch.js";
import type { UseCaseIo } from "../use-case.js";
import type { CurationStop } from "./outcome.js";
import { selecting, type GenerateOptions } from "./options.js";
import { UntilGate } from "./until-gate.js";
import { PLACEHOLDER_NOTICE, REHEARSAL_NOTICE } from "../curation/gallery-html.js";
import type { ScoreQueue } from "./score-queue.js";

export const REJECTED_DIR = "rejected";

/** What curation tells the caller while it runs. */
export type CurationEvent =
  | { type: "gen.scored"; file: string; faces: number; relative: number | null; verdict: string; passed: boolean }
  | { type: "curation.start" }
  | { type: "curation.scoring"; done: number; total: number }
  | { type: "curation.scored" };

/** Where the command runs and where identities live: relative --ref folders resolve against cwd. */
export interface CurationPlace {
  cwd: string;
  home: string;
}

export interface Curation {
  reference: IdentityReference | undefined;
  gate: UntilGate | undefined;
  /** Plain `gen --identity/--ref`: scores each image as it lands (src/generate/score-queue.ts). */
  queue?: ScoreQueue | undefined;
}

/** The pipelined scorer for a plain scored batch, or undefined (not scoring, placeholders, no reference yet). */
async function scoreQueueFor(options: GenerateOptions, plan: GenPlan, place: CurationPlace, io: UseCaseIo<CurationEvent>, reference: IdentityReference | undefined): Promise<ScoreQueue | undefined> {
  if (options.score === false || options.backend === "test" || !(options.identity || options.ref)) return undefined;
  let ref = reference;
  if (!ref) {
    try {
      const { loadReference } = await import("../scoring/reference.js");
      ref = await loadReference({ home: place.home, ...(options.identity ? { identity: options.identity } : { selfies: resolve(place.cwd, options.ref!) }), signal: io.signal });
    } catch (error) {
      // finishCuration reports it (scoring is a bonus for a plain batch).
      if (error instanceof UsageError) return undefined;
      throw error;
    }
  }
  const { ScoreQueue } = await import("./score-queue.js");
  return new ScoreQueue(ref, { outDir: plan.outDir, home: place.home, signal: io.signal });
}

/**
 * Loads the reference up front when the flags need it, so a missing selfie summary is a usage
 * error before anything is paid for; builds the gate for --until / --budget.
 */
export async function prepareCuration(options: GenerateOptions, plan: GenPlan, place: CurationPlace, io: UseCaseIo<CurationEvent>): Promise<Curation> {
  const { home } = place;
  let reference: IdentityReference | undefined;
  if (selecting(options)) {
    const { loadReference } = await import("../scoring/reference.js");
    reference = await loadReference({ home, ...(options.identity ? { identity: options.identity } : { selfies: resolve(place.cwd, options.ref!) }), signal: io.signal });
  }
  if (options.until === undefined && options.budget === undefined) return { reference, gate: undefined, queue: await scoreQueueFor(options, plan, place, io, reference) };
  const { PRICE_TABLE } = await import("../pricing/prices.js");
  const { priceKey } = await import("../generation/run-plan.js");
  const gate = new UntilGate({
    target: options.until,
    maxCount: plan.images.length,
    budgetUsd: options.budget,
    priceUsd: PRICE_TABLE.entries[priceKey(plan.model)].perImageUsd,
    reference,
    outDir: plan.outDir,
    home,
    minSimilarity: options.minSimilarity,
    onScored: (file, score, passed) => io.onEvent({ type: "gen.scored", file, faces: score.faces, relative: score.relative ?? null, verdict: score.verdict, passed }),
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
export function curationDue(result: EngineResult, curation: Curation, options: GenerateOptions): boolean {
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
  options: GenerateOptions,
  context: { outDir: string; resume: string; failureDetails: string[] },
): CurationStop {
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

/** A batch's gallery title, and its rule that paid images stay where the manifest says (marked, not moved). */
export interface CurationLook {
  title?: string | undefined;
  keepInPlace?: boolean | undefined;
}

export interface CurationOutcome {
  result: AfterBatchResult;
  /** Whether images were selected (kept / set aside), not just scored. */
  select: boolean;
  /** Said once the batch is curated (unscored identity, placeholders, unreadable images). */
  warnings: string[];
  data: Record<string, unknown>;
  /** Why an image was set aside, in words (src/curation/rejected.ts). */
  rejectMessages: Record<string, string>;
}

/** After the engine: score, select, move, crop, and write the gallery and contact sheet. */
export async function finishCuration(
  curation: Curation,
  run: { plan: GenPlan; store: ManifestStore; placeholder: boolean; rehearsal?: boolean; place: CurationPlace; options: GenerateOptions; resume: string; look?: CurationLook | undefined },
  io: UseCaseIo<CurationEvent>,
): Promise<CurationOutcome> {
  const { plan, store, options, place } = run;
  const { afterBatch } = await import("../curation/after-batch.js");
  const { REJECT_MESSAGES } = await import("../curation/rejected.js");
  const scored = curation.gate?.scores ?? (await curation.queue?.drain());
  // Placeholders without a person have no face: scoring them would only set every one aside.
  // Rehearsal previews (a known person) show faces and are scored for real.
  const faceless = run.placeholder && !run.rehearsal;
  let compare = options.score !== false && !faceless && Boolean(options.identity || options.ref);
  const warnings: string[] = [...(curation.gate?.warnings ?? []), ...(curation.queue?.warnings ?? [])];
  if (faceless && selecting(options)) warnings.push("--backend test without a person makes placeholders without faces: nothing was scored or set aside");
  if (compare && !curation.reference) {
    // Plain `gen --identity`: scoring is a bonus; an identity without a selfie summary or dataset
    // still gets its gallery, unscored.
    try {
      const { loadReference } = await import("../scoring/reference.js");
      await loadReference({ home: place.home, ...(options.identity ? { identity: options.identity } : { selfies: resolve(place.cwd, options.ref!) }), signal: io.signal });
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      warnings.push(`not scored: ${error.message}${error.hint ? ` (${error.hint})` : ""}`);
      compare = false;
    }
  }
  const select = compare && (options.keepBest !== undefined || options.minSimilarity !== undefined || options.until !== undefined);
  if (select) await restoreSetAside(store, plan.outDir, scored);
  const entries = plan.images.map((image) => store.entry(image.key)).filter((e) => e !== undefined);
  if (compare) io.onEvent({ type: "curation.start" });
  let result: AfterBatchResult;
  try {
    result = await afterBatch(entries, store, {
      outDir: plan.outDir,
      home: place.home,
      ...(compare && options.identity ? { identity: options.identity } : {}),
      ...(compare && options.ref ? { selfies: resolve(place.cwd, options.ref) } : {}),
      ...(options.keepBest !== undefined ? { keep: options.keepBest } : {}),
      // --until keeps what passes: the minimum applies even when not given.
      ...(options.minSimilarity !== undefined || options.until !== undefined ? { minSimilarity: options.minSimilarity ?? IDENTITY_THRESHOLDS.match } : {}),
      crops: Boolean(options.crops),
      title: `${run.look?.title ?? `${plan.identity?.name ?? "headshots"} · ${plan.preset.name}`}${run.rehearsal ? " · PREVIEW (TEST PLACEHOLDERS)" : run.placeholder ? " · TEST PLACEHOLDERS" : ""}`,
      ...(run.look?.keepInPlace ? { moveRejected: false } : {}),
      ...(scored ? { scored } : {}),
      notice: run.rehearsal ? REHEARSAL_NOTICE : run.placeholder ? PLACEHOLDER_NOTICE : undefined,
      signal: io.signal,
      ...(compare ? { onProgress: (done: number, total: number) => io.onEvent({ type: "curation.scoring", done, total }) } : {}),
    });
  } catch (error) {
    if (error instanceof InterruptedError || io.signal.aborted) {
      throw new InterruptedError("Interrupted while scoring: every image is made and saved.", { hint: `re-run to score and select: ${run.resume}` });
    }
    throw error;
  } finally {
    if (compare) io.onEvent({ type: "curation.scored" });
  }
  await store.commit();
  warnings.push(...result.warnings);
  return { result, select, warnings, data: curationData(result, curation.gate, options), rejectMessages: REJECT_MESSAGES };
}

function curationData(result: AfterBatchResult, gate: UntilGate | undefined, options: GenerateOptions): Record<string, unknown> {
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
