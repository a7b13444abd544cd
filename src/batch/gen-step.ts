/**
 * The gen -> score/select part of a batch for one person and one preset. Each preset has its own
 * folder `<out>/<person>/<preset>/` with the gen manifest and `headshot-batch.json`, the hash of
 * everything the images depend on (preset content, overrides, format, backend, identity). When
 * that hash changes, the old folder is moved aside to `<preset>.superseded-<hash8>` (paid images
 * are never deleted) and the preset is generated again; otherwise the run resumes or skips.
 */
import { createHash } from "node:crypto";
import { link, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { JobFailedError, UsageError } from "../errors.js";
import type { IdentityLike, LoraSource } from "../generation/lora-source.js";
import type { EngineResult } from "../generation/engine.js";
import type { Manifest } from "../generation/manifest.js";
import type { RehearsalSource } from "../generation/rehearsal/compose.js";
import { REHEARSAL_NOTICE } from "../curation/gallery-html.js";
import type { GenPlan } from "../generation/plan.js";
import type { RunEvent, RunGenOutput } from "../generation/run-plan.js";
import type { Identity } from "../identity/registry.js";
import type { ScoreQueue } from "../generate/score-queue.js";
import type { ImageScore } from "../scoring/similarity.js";
import type { GlobalSettings } from "../settings/settings.js";
import type { ResolvedPreset as LoadedPreset } from "../presets/load.js";
import { exists, readJson } from "../util/fs.js";
import { writeJsonAtomic } from "../util/atomic-write.js";
import { acquireFolderLock, LOCK_FILE, type LockTakeover } from "../util/folder-lock.js";
import { estimateImagesUsd, type Budget } from "./budget.js";
import { BudgetStop, type PresetOutcome } from "./outcome.js";
import type { ResolvedPerson, ResolvedPreset } from "./resolve.js";

export const BATCH_MARKER_FILE = "headshot-batch.json";

export type GenStepEvent =
  | { type: "preset.start"; person: string; preset: string; dir: string; remaining: number; total: number; estimateUsd: number }
  | { type: "preset.superseded"; person: string; preset: string; movedTo: string; reason: string }
  | { type: "preset.skipped"; person: string; preset: string; dir: string; images: number }
  | { type: "lock.takeover"; person: string; preset: string; takeover: LockTakeover }
  | { type: "preset.done"; person: string; preset: string; dir: string; images: number; failed: number; costUsd: number }
  | { type: "gen.event"; person: string; preset: string; event: RunEvent }
  | { type: "curate.done"; person: string; preset: string; kept: number; scored: number; gallery: string; placeholder: boolean };

/** A weighted FIFO semaphore over the batch's prediction slots (see run-batch.ts). */
export interface Slots {
  withSlots<T>(wanted: number, fn: (granted: number, giveBack: (n: number) => void) => Promise<T>): Promise<T>;
}

export interface GenStepInput {
  person: ResolvedPerson;
  preset: ResolvedPreset;
  identity: Identity;
  /** HEADSHOT_HOME for caches (test mode: its own folder). */
  home: string;
  out: string;
  batchDir: string;
  settings: GlobalSettings;
  env: Record<string, string | undefined>;
  signal: AbortSignal;
  budget: Budget;
  slots: Slots;
  /** The face models are used one person at a time (see identity-step.ts). */
  faces: { run<T>(fn: () => Promise<T>): Promise<T> };
  concurrency: number;
  onEvent: (event: GenStepEvent) => void;
  now: () => Date;
}

interface Marker {
  hash: string;
  preset: string;
  presetHash: string;
  set: string[];
  format: string | null;
  backend: string;
  identity: { name: string; lora: string | null; dataset: string | null; version: string | null };
  /** What the last curation was made from; an unchanged set of images is not scored again. */
  curation?: string;
  createdAt: string;
}

function sha256(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/**
 * Moves `dir` to `<dir>.superseded-<hash8>` (with -2, -3... if taken). The folder lock we hold
 * moves with it, so it is linked back at once: link fails if another run took the fresh folder
 * in between, which then owns it (issue 14, S3).
 */
async function supersede(dir: string, oldHash: string): Promise<string> {
  let target = `${dir}.superseded-${oldHash.slice(0, 8)}`;
  for (let i = 2; await exists(target); i++) target = `${dir}.superseded-${oldHash.slice(0, 8)}-${i}`;
  await rename(dir, target);
  await mkdir(dir, { recursive: true });
  try {
    await link(join(target, LOCK_FILE), join(dir, LOCK_FILE));
  } finally {
    await rm(join(target, LOCK_FILE), { force: true });
  }
  return target;
}

export async function runPresetStep(input: GenStepInput): Promise<PresetOutcome> {
  const { person, preset: entry } = input;
  const { loadPreset } = await import("../presets/load.js");

  const preset = await loadPreset(entry.ref, { cwd: input.batchDir, userDirs: input.settings.presetDirs });
  const dir = join(input.out, person.name, preset.name);
  // One run per person/preset folder, before anything is moved, requested or paid (issue 14, S3).
  const lock = await acquireFolderLock(dir, { command: `headshot batch (${person.name}/${preset.name})`, what: `${person.name}/${preset.name}` });
  if (lock.takeover) input.onEvent({ type: "lock.takeover", person: person.name, preset: preset.name, takeover: lock.takeover });
  try {
    return await presetStepLocked(input, preset, dir);
  } finally {
    await lock.release();
  }
}

async function presetStepLocked(input: GenStepInput, preset: LoadedPreset, dir: string): Promise<PresetOutcome> {
  const { person, identity } = input;
  const { loraSourceFor } = await import("../generation/lora-source.js");
  const like = identity as unknown as IdentityLike;
  const source = loraSourceFor(like, { backend: person.backend });
  const marker = markerFor(input, preset, source);
  const { manifest, superseded } = await claimFolder(input, dir, preset, marker);
  const plan = await planPreset(input, dir, source, manifest);
  if (plan.preset.hash !== preset.hash) throw new Error(`preset ${preset.name} changed while the batch was running`);

  const costBefore = manifestCost(manifest);
  const remaining = plan.images.filter((image) => manifest?.images[image.key]?.status !== "done" || !manifest.images[image.key]?.file);
  const doneBefore = plan.images.length - remaining.length;
  const outcome: PresetOutcome = { preset: preset.name, dir, status: "done", images: doneBefore, expected: plan.images.length, failed: 0, costUsd: costBefore };
  if (superseded) outcome.superseded = superseded;
  let queue: ScoreQueue | undefined;

  if (remaining.length > 0 || (manifest && Object.values(manifest.images).some((e) => e.status !== "done"))) {
    queue = await generateRemaining(input, { plan, dir, remaining: remaining.length, costBefore, outcome, trainedVersion: source.trainedVersion });
  } else {
    input.onEvent({ type: "preset.skipped", person: person.name, preset: preset.name, dir, images: doneBefore });
  }

  const scored = await queue?.drain();
  if (outcome.status === "done" && wantsCuration(person)) await input.faces.run(() => curateStep(input, plan, marker, dir, outcome, scored));
  return outcome;
}

/** The hash of everything this preset's images depend on, with what it was made from. */
function markerFor(input: GenStepInput, preset: LoadedPreset, source: LoraSource): Marker {
  const { person, preset: entry, identity } = input;
  const marker: Marker = {
    hash: "",
    preset: preset.name,
    presetHash: preset.hash,
    set: entry.set,
    format: person.format ?? null,
    backend: person.backend,
    identity: { name: identity.name, lora: identity.lora.sha256, dataset: identity.dataset.hash, version: source.trainedVersion ?? null },
    createdAt: input.now().toISOString(),
  };
  marker.hash = sha256({ p: marker.presetHash, s: marker.set, f: marker.format, b: marker.backend, i: marker.identity, u: source.loraUrl ?? null });
  return marker;
}

/**
 * Makes `dir` this marker's folder: a changed preset (or identity, overrides, format, backend)
 * sets the old images aside; an unchanged one keeps its manifest (to resume) and last curation.
 */
async function claimFolder(input: GenStepInput, dir: string, preset: LoadedPreset, marker: Marker): Promise<{ manifest: Manifest | undefined; superseded: string | undefined }> {
  const { readManifest } = await import("../generation/manifest.js");
  let superseded: string | undefined;
  const previous = await readJson<Marker>(join(dir, BATCH_MARKER_FILE));
  const manifestBefore = await readManifest(dir).catch(() => undefined);
  const oldHash = previous ? (previous.hash !== marker.hash ? previous.hash : undefined) : manifestBefore && manifestBefore.batch.preset.hash !== preset.hash ? manifestBefore.batch.preset.hash : undefined;
  if (oldHash) {
    superseded = await supersede(dir, oldHash);
    input.onEvent({ type: "preset.superseded", person: input.person.name, preset: preset.name, movedTo: superseded, reason: previous ? "the preset, its overrides or the identity changed" : "the preset changed" });
  }
  if (!previous || oldHash) await writeJsonAtomic(join(dir, BATCH_MARKER_FILE), marker);
  else marker.curation = previous.curation;
  return { manifest: oldHash ? undefined : manifestBefore, superseded };
}

async function planPreset(input: GenStepInput, dir: string, source: LoraSource, manifest: Manifest | undefined): Promise<GenPlan> {
  const { person, preset: entry, identity } = input;
  const { preparePlan } = await import("../generation/prepare-plan.js");
  return preparePlan(
    {
      preset: entry.ref,
      identity: { name: identity.name, trigger: identity.trigger, classWord: identity.classWord, trainedOn: source.trainedOn },
      count: entry.count,
      out: dir,
      set: entry.set,
      format: person.format,
      backend: person.backend,
      loraUrl: source.loraUrl,
      concurrency: input.concurrency,
    },
    { cwd: input.batchDir, presetDirs: input.settings.presetDirs, recordedSeedBase: manifest?.batch.seedBase },
  );
}

interface RemainingRun {
  plan: GenPlan;
  dir: string;
  /** Images not done yet. */
  remaining: number;
  costBefore: number;
  outcome: PresetOutcome;
  trainedVersion: string | undefined;
  /** Scores each image as it lands (the engine's settle hook), while the others still run. */
  queue?: ScoreQueue | undefined;
}

/** Reserves the estimate from the batch budget, runs the images not done yet, and records the outcome; returns the score queue to drain. */
async function generateRemaining(input: GenStepInput, run: RemainingRun): Promise<ScoreQueue | undefined> {
  const { person } = input;
  const { plan, dir, remaining, outcome } = run;
  const { priceKey } = await import("../generation/run-plan.js");
  const key = priceKey(plan.model);
  const steps = typeof plan.images[0]?.sampler.steps === "number" ? plan.images[0].sampler.steps : 28;
  const estimateUsd = estimateImagesUsd(key, remaining, steps, input.concurrency);
  const reservation = input.budget.reserve(estimateUsd);
  if (!reservation) throw new BudgetStop(`${remaining} image${remaining === 1 ? "" : "s"} of ${person.name}/${outcome.preset}`, estimateUsd, input.budget);
  input.onEvent({ type: "preset.start", person: person.name, preset: outcome.preset, dir, remaining, total: plan.images.length, estimateUsd });
  let spentThisRun = 0;
  // Scored as each image lands, while the others are still running (issue 18).
  run.queue = await scoreQueueFor(input, dir);
  try {
    const { result } = await runInSlots(input, run);
    spentThisRun = result.spentThisRunUsd;
    await recordResult(input, run, result);
  } catch (error) {
    throw (await enospcError(error, dir, remaining)) ?? error;
  } finally {
    reservation.settle(spentThisRun);
  }
  return run.queue;
}

/** Runs the plan on as many of the batch's prediction slots as it can use, giving back the idle ones. */
async function runInSlots(input: GenStepInput, run: RemainingRun): Promise<RunGenOutput> {
  const { person, signal } = input;
  const { runGeneration } = await import("../generation/run-plan.js");
  // Test mode rehearses the person: previews drawn from their prepared selfies (issue 15).
  const rehearsal = person.backend === "test" ? await input.faces.run(() => rehearsalOf(input)) : undefined;
  // Local images run one at a time on the GPU lane (run-batch.ts); remote ones share the slots.
  const slots: Slots = person.backend === "local" ? { withSlots: (_wanted, fn) => fn(1, () => undefined) } : input.slots;
  return slots.withSlots(Math.max(1, run.remaining), (granted, giveBack) => {
    // Images of this run not finished yet: once fewer than its slots, the rest go back to the batch.
    let open = run.remaining;
    let held = granted;
    const onTerminal = () => {
      open--;
      if (open < held) {
        giveBack(held - Math.max(open, 1));
        held = Math.max(open, 1);
      }
    };
    return runGeneration({
      plan: run.plan,
      backend: person.backend,
      concurrency: granted,
      trainedVersion: run.trainedVersion,
      identity: input.identity as unknown as IdentityLike,
      local: { aiToolkitDir: input.settings.aiToolkitDir.value, aiToolkitPython: input.settings.aiToolkitPython },
      env: input.env,
      home: input.home,
      replicateBaseUrl: input.settings.replicateBaseUrl.value,
      signal,
      onEvent: (event) => {
        if (event.type === "image.done" || event.type === "image.failed" || event.type === "image.filtered") onTerminal();
        input.onEvent({ type: "gen.event", person: person.name, preset: run.outcome.preset, event });
      },
      now: input.now,
      rehearsal,
      ...(run.queue ? { gate: run.queue } : {}),
    });
  });
}

/** The engine's result as the preset's outcome; a fatal stop or a full disk ends the batch. */
async function recordResult(input: GenStepInput, run: RemainingRun, result: EngineResult): Promise<void> {
  const { outcome, dir } = run;
  const done = result.entries.filter((e) => e.status === "done").length;
  outcome.images = done;
  outcome.failed = result.total - done;
  outcome.costUsd = run.costBefore + result.spentThisRunUsd;
  if (result.interrupted) outcome.status = "interrupted";
  else if (done < result.total) outcome.status = "failed";
  input.onEvent({ type: "preset.done", person: input.person.name, preset: outcome.preset, dir, images: done, failed: outcome.failed, costUsd: outcome.costUsd });
  if (result.fatal && result.finished === 0 && done < result.total) throw result.fatal;
  const full = result.entries.find((e) => e.status !== "done" && e.error && /ENOSPC|no space left/i.test(e.error.message));
  if (full) throw (await enospcError(new Error(full.error?.message), dir, result.total - done)) ?? new Error(full.error?.message);
  if (outcome.status === "failed") {
    const reasons = [...new Set(result.entries.filter((e) => e.status !== "done" && e.error).map((e) => `${e.error?.code}: ${e.error?.message}`))];
    outcome.notes = reasons.slice(0, 5);
  }
}

async function rehearsalOf(input: GenStepInput): Promise<RehearsalSource> {
  const { loadRehearsalSource } = await import("../generation/rehearsal/source.js");
  return loadRehearsalSource({ home: input.home, identity: input.identity, signal: input.signal });
}

async function scoreQueueFor(input: GenStepInput, dir: string): Promise<ScoreQueue | undefined> {
  if (!wantsCuration(input.person) || input.person.backend === "test") return undefined;
  const { referenceFromIdentity } = await import("../scoring/reference.js");
  const reference = referenceFromIdentity(input.identity);
  if (!reference) return undefined;
  const { ScoreQueue } = await import("../generate/score-queue.js");
  return new ScoreQueue(reference, { outDir: dir, home: input.home, signal: input.signal });
}

function manifestCost(manifest: Manifest | undefined): number {
  if (!manifest) return 0;
  return Object.values(manifest.images).reduce((sum, e) => sum + (e.costUsd ?? 0), 0);
}

function wantsCuration(person: ResolvedPerson): boolean {
  return person.keepBest !== undefined || person.minSimilarity !== undefined || person.crops;
}

/** About how much room an image takes with its sidecar and thumbnail (a 1 MP PNG is 1-2 MB). */
const BYTES_PER_IMAGE = 2 * 1024 * 1024;

/** A full disk, named with the folder, the free space and about how much the rest needs. */
async function enospcError(error: unknown, dir: string, images: number): Promise<JobFailedError | undefined> {
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
    details: [`${free === undefined ? "free space unknown" : `${mb(free)} free`}; about ${mb(images * BYTES_PER_IMAGE)} needed for the ${images} image${images === 1 ? "" : "s"} left in this folder`],
    hint: `free space on the disk of ${dir} (or set \`out:\` to a bigger disk), then re-run: finished images are kept, nothing is half-written or paid twice`,
    cause: error,
  });
}

async function curateStep(input: GenStepInput, plan: GenPlan, marker: Marker, dir: string, outcome: PresetOutcome, scored?: Map<string, ImageScore>): Promise<void> {
  const { person, identity } = input;
  const { readManifest } = await import("../generation/manifest.js");
  const manifest = await readManifest(dir);
  const done = plan.images.flatMap((image) => {
    const entry = manifest?.images[image.key];
    return entry?.status === "done" && entry.file ? [{ file: entry.file, key: image.key, prompt: entry.prompt, seed: entry.seed, sha: entry.sha256 ?? "" }] : [];
  });
  const curation = sha256({ files: done.map((d) => [d.file, d.sha]), keep: person.keepBest ?? null, min: person.minSimilarity ?? null, crops: person.crops });
  const { GALLERY_FILE } = await import("../curation/gallery.js");
  if (marker.curation === curation && (await exists(join(dir, GALLERY_FILE)))) {
    outcome.gallery = join(dir, GALLERY_FILE);
    return;
  }
  const { referenceFromIdentity } = await import("../scoring/reference.js");
  const reference = referenceFromIdentity(identity);
  if (!reference) {
    outcome.notes = [...(outcome.notes ?? []), `no scoring: identity ${identity.name} has no face reference from its selfies (keepBest/crops skipped)`];
    return;
  }
  const { curate } = await import("../curation/curate.js");
  const result = await curate(
    done.map(({ file, key, prompt, seed }) => ({ file, key, prompt, seed })),
    {
      outDir: dir,
      reference,
      home: input.home,
      ...(person.keepBest !== undefined ? { keep: person.keepBest } : {}),
      ...(person.minSimilarity !== undefined ? { minSimilarity: person.minSimilarity } : {}),
      // Paid images stay where the manifest says they are: not-kept ones are marked, not moved.
      moveRejected: false,
      crops: person.crops,
      sidecars: "all",
      ...(scored ? { scored } : {}),
      title: `${person.name} · ${plan.preset.name}${person.backend === "test" ? " · PREVIEW (TEST PLACEHOLDERS)" : ""}`,
      notice: person.backend === "test" ? REHEARSAL_NOTICE : undefined,
      signal: input.signal,
      now: input.now,
    },
  );
  outcome.kept = result.images.filter((i) => i.kept).length;
  outcome.gallery = result.galleryPath;
  if (result.warnings.length) outcome.notes = [...(outcome.notes ?? []), ...result.warnings.slice(0, 5)];
  if (person.backend === "test") outcome.notes = [...(outcome.notes ?? []), "previews drawn from the selfies (a free rehearsal), not generated: some plant a stranger, a soft image or a small face on purpose"];
  await writeJsonAtomic(join(dir, BATCH_MARKER_FILE), { ...marker, curation });
  input.onEvent({ type: "curate.done", person: person.name, preset: plan.preset.name, kept: outcome.kept, scored: result.scores.length, gallery: result.galleryPath, placeholder: person.backend === "test" });
}

export function assertDistinctPresetFolders(person: string, names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new UsageError(`people[${person}]: preset "${name}" is listed twice; each preset gets one folder <out>/${person}/${name}/`, {
        code: "E_BATCH_PRESET_TWICE",
        hint: "merge the two entries (one count, one `set:`), or copy the preset to a file with another `name:`",
      });
    }
    seen.add(name);
  }
}
