/**
 * What a batch adds around one preset's generate run (src/batch/gen-step.ts): before the engine,
 * the budget reservation and `preset.start` (or `preset.skipped` when every image is done on disk:
 * then no engine, no backend and no manifest write, straight to the outcome), the run on
 * the batch's shared prediction slots with idle slots given back; after it, the preset's outcome
 * from the use case's result, and a full disk or a refused start as the error that ends the person.
 */
import { isHeadshotError, JobFailedError } from "../errors.js";
import { doneOnDisk } from "../generation/complete-run.js";
import type { EngineResult } from "../generation/engine.js";
import type { Manifest } from "../generation/manifest.js";
import type { GenPlan } from "../generation/plan.js";
import type { RunEvent, RunGenOutput } from "../generation/run-plan.js";
import type { GenerateResult, RunSlots } from "../generate/generate.js";
import type { ResolvedPreset as LoadedPreset } from "../presets/load.js";
import { estimateImagesUsd } from "./budget.js";
import type { GenStepInput, Slots } from "./preset-step-types.js";
import { BudgetStop, type PresetOutcome } from "./outcome.js";
import { presetFlags } from "./resolve.js";

/** One preset run of a batch while it goes: what it was given, and what it found out so far. */
export interface RunState {
  input: GenStepInput;
  preset: LoadedPreset;
  dir: string;
  /** The folder's manifest before this run (undefined: a fresh or superseded folder). */
  manifest: Manifest | undefined;
  outcome: PresetOutcome;
  /** Nothing was left to make: no reservation, no slots, no engine events passed on. */
  skipped: boolean;
  /** The face detail pass has started (its events are `polish.event`). */
  polishing: boolean;
}

const isTerminal = (event: RunEvent) => event.type === "image.done" || event.type === "image.failed" || event.type === "image.filtered";

/** The batch's wrapper around the engine run (GenerateInjected.runSlots). */
export function presetRunSlots(state: RunState): RunSlots {
  const { input, manifest, outcome, dir } = state;
  const { person } = input;
  return async (plan, start, complete) => {
    if (plan.preset.hash !== state.preset.hash) throw new Error(`preset ${state.preset.name} changed while the batch was running`);
    // Every image done on disk: straight to the outcome, without the engine, a slot or a reservation.
    const done = manifest ? await complete() : undefined;
    if (done) {
      state.skipped = true;
      input.onEvent({ type: "preset.skipped", person: person.name, preset: outcome.preset, dir, images: plan.images.length });
      return done;
    }
    let remaining = 0;
    for (const image of plan.images) if (!(await doneOnDisk(manifest?.images[image.key], dir))) remaining++;
    const estimateUsd = await reservationUsd(plan, remaining, input, outcome.costUsd);
    const reservation = input.budget.reserve(estimateUsd);
    if (!reservation) throw new BudgetStop(`${remaining} image${remaining === 1 ? "" : "s"} of ${person.name}/${outcome.preset}`, estimateUsd, input.budget);
    input.onEvent({ type: "preset.start", person: person.name, preset: outcome.preset, dir, remaining, total: plan.images.length, estimateUsd });
    let spent = 0;
    try {
      const output = await onSlots(input, remaining, start);
      spent = output.result.spentThisRunUsd;
      return output;
    } catch (error) {
      throw (await enospcError(error, dir, remaining)) ?? error;
    } finally {
      reservation.settle(spent);
    }
  };
}

/**
 * What the batch budget holds back for this run: the estimate of every image left, or less when
 * the entry's own `budget:` (gen --budget) caps the run lower (it counts what this folder already
 * spent, as gen's does). Polish is counted as spent once it ran (gen-step.ts), not reserved.
 */
async function reservationUsd(plan: GenPlan, remaining: number, input: GenStepInput, spentBefore: number): Promise<number> {
  const { priceKey } = await import("../generation/run-plan.js");
  const steps = typeof plan.images[0]?.sampler.steps === "number" ? plan.images[0].sampler.steps : 28;
  const estimate = estimateImagesUsd(priceKey(plan.model), remaining, steps, input.concurrency);
  const cap = presetFlags(input.person, input.preset).budget;
  return cap === undefined ? estimate : Math.min(estimate, Math.max(0, cap - spentBefore));
}

/** Runs on as many of the batch's prediction slots as it can use, giving back the idle ones. */
function onSlots(input: GenStepInput, remaining: number, start: Parameters<RunSlots>[1]): Promise<RunGenOutput> {
  // Local images run one at a time on the GPU lane (run-batch.ts); remote ones share the slots.
  const slots: Slots = input.person.backend === "local" ? { withSlots: (_wanted, fn) => fn(1, () => undefined) } : input.slots;
  return slots.withSlots(Math.max(1, remaining), (granted, giveBack) => {
    // Images of this run not finished yet: once fewer than its slots, the rest go back to the batch.
    let open = remaining;
    let held = granted;
    return start(granted, (event) => {
      if (!isTerminal(event)) return;
      open--;
      if (open < held) {
        giveBack(held - Math.max(open, 1));
        held = Math.max(open, 1);
      }
    });
  });
}

type Ran = Extract<GenerateResult, { dryRun: false }>;

/** The use case's result as the preset's outcome; a refused start or a full disk ends the person. */
export async function recordResult(state: RunState, ran: Ran): Promise<void> {
  const { input, outcome, dir } = state;
  const result = ran.output.result;
  const done = result.entries.filter((e) => e.status === "done").length;
  // With `until`, the person asked for K images that look like them, not for the whole plan:
  // counted from the manifest, so a re-run that keeps the last curation says the same.
  const { until } = presetFlags(state.input.person, state.input.preset);
  const kept = Object.values(ran.output.opened.store.data.images).filter((e) => e.status === "done" && e.kept === true).length;
  outcome.images = until !== undefined ? Math.min(kept, until) : done;
  outcome.expected = until ?? result.total;
  outcome.failed = ran.error ? Math.max(0, outcome.expected - outcome.images) : 0;
  const polishUsd = ran.polished && !ran.polished.dryRun ? ran.polished.outcome.costUsd : 0;
  // The face passes were paid after the run's reservation was settled: counted as spent now.
  if (polishUsd) input.budget.addSpent(polishUsd);
  outcome.costUsd = Math.round((outcome.costUsd + result.spentThisRunUsd + polishUsd) * 1000) / 1000;
  if (result.interrupted) outcome.status = "interrupted";
  else if (ran.error) outcome.status = "failed";
  if (!state.skipped) input.onEvent({ type: "preset.done", person: input.person.name, preset: outcome.preset, dir, images: outcome.images, failed: outcome.failed, costUsd: outcome.costUsd });
  if (result.fatal && result.finished === 0 && done < result.total) throw result.fatal;
  const full = result.entries.find((e) => e.status !== "done" && e.error && /ENOSPC|no space left/i.test(e.error.message));
  if (full) throw (await enospcError(new Error(full.error?.message), dir, result.total - done)) ?? new Error(full.error?.message);
  if (outcome.status === "failed") {
    outcome.code = ran.error?.code ?? "E_GEN_INCOMPLETE";
    outcome.notes = failureNotes(result, ran);
  }
  recordCuration(state, ran);
}

function failureNotes(result: EngineResult, ran: Ran): string[] {
  const code = ran.error?.code;
  // --until short or --budget stopped: the use case's own words say why.
  if (code === "E_GEN_UNTIL_SHORT" || code === "E_GEN_BUDGET") return [ran.error?.message ?? ""];
  return [...new Set(result.entries.filter((e) => e.status !== "done" && e.error).map((e) => `${e.error?.code}: ${e.error?.message}`))].slice(0, 5);
}

/** Kept images, the gallery and what curation and polish said, as outcome fields and `curate.done`. */
function recordCuration(state: RunState, ran: Ran): void {
  const { input, outcome } = state;
  const placeholder = input.person.backend === "test";
  const notes: string[] = [];
  if (ran.curated) {
    const { result, warnings } = ran.curated;
    if (result.scored) outcome.kept = result.kept;
    outcome.gallery = result.galleryPath;
    notes.push(...warnings.slice(0, 5));
    if (placeholder) notes.push("previews drawn from the selfies (a free rehearsal), not generated: some plant a stranger, a soft image or a small face on purpose");
    input.onEvent({ type: "curate.done", person: input.person.name, preset: outcome.preset, kept: result.kept, scored: result.scored ? result.images.length : 0, gallery: result.galleryPath, placeholder });
  }
  const polished = ran.polished && !ran.polished.dryRun ? ran.polished : undefined;
  if (polished) {
    outcome.polish = { polished: polished.outcome.polished, keptOriginal: polished.outcome.keptOriginal, failed: polished.outcome.failed, costUsd: polished.outcome.costUsd, manifest: polished.outcome.manifestPath };
    if (polished.error) notes.push(`polish: ${polished.error.message} (${polished.error.hint ?? ""})`);
  }
  if (notes.length) outcome.notes = [...(outcome.notes ?? []), ...notes];
}

/** About how much room an image takes with its sidecar and thumbnail (a 1 MP PNG is 1-2 MB). */
const BYTES_PER_IMAGE = 2 * 1024 * 1024;

/** A full disk, named with the folder, the free space and about how much the rest needs. */
export async function enospcError(error: unknown, dir: string, images: number): Promise<JobFailedError | undefined> {
  if (isHeadshotError(error) && error.code === "E_DISK_FULL") return undefined;
  const code = (error as { code?: unknown } | undefined)?.code;
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (code !== "ENOSPC" && cause?.code !== "ENOSPC" && !/ENOSPC|no space left/i.test(String((error as Error | undefined)?.message))) return undefined;
  const { statfs } = await import("node:fs/promises");
  const free = await statfs(dir).then(
    (s) => s.bavail * s.bsize,
    () => undefined,
  );
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return new JobFailedError(`the disk holding ${dir} is full`, {
    code: "E_DISK_FULL",
    details: [`${free === undefined ? "free space unknown" : `${mb(free)} free`}${images ? `; about ${mb(images * BYTES_PER_IMAGE)} needed for the ${images} image${images === 1 ? "" : "s"} left in this folder` : ""}`],
    hint: `free space on the disk of ${dir} (or set \`out:\` to a bigger disk), then re-run: finished images are kept, nothing is half-written or paid twice`,
    cause: error,
  });
}
