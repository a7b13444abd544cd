/**
 * One preset of one person in a batch. Each preset has its own folder `<out>/<person>/<preset>/`
 * with the gen manifest and `headshot-batch.json`, the hash of everything the images depend on
 * (preset content, overrides, format, backend, identity). When that hash changes, the old folder
 * is moved aside to `<preset>.superseded-<hash8>` (paid images are never deleted) and the preset
 * is generated again; otherwise the run resumes or skips. The generation itself (plan -> engine ->
 * curation -> polish) is the one generate use case (src/generate/generate.ts), the same as `gen`:
 * this file adds only what is batch's own: the folder marker, the budget reservation, the shared
 * prediction slots, and the mapping of its result to the preset's outcome.
 */
import { createHash } from "node:crypto";
import { link, mkdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import type { IdentityLike, LoraSource } from "../generation/lora-source.js";
import type { Manifest } from "../generation/manifest.js";
import type { RunEvent } from "../generation/run-plan.js";
import type { GenerateEvent, GenerateResult } from "../generate/generate.js";
import type { GenStepInput } from "./preset-step-types.js";
import type { GenerateOptions } from "../generate/options.js";
import type { PolishFolderEvent } from "../polish/polish-folder.js";
import type { ResolvedPreset as LoadedPreset } from "../presets/load.js";
import { exists, readJson } from "../util/fs.js";
import { writeJsonAtomic } from "../util/atomic-write.js";
import { acquireFolderLock, LOCK_FILE } from "../util/folder-lock.js";
import type { PresetOutcome } from "./outcome.js";
import { enospcError, presetRunSlots, recordResult, type RunState } from "./preset-run.js";
import { generateOptionsFor } from "./resolve.js";

export const BATCH_MARKER_FILE = "headshot-batch.json";

export type { GenStepEvent, GenStepInput, Slots } from "./preset-step-types.js";

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
  const marker = markerFor(input, preset, loraSourceFor(like, { backend: person.backend }));
  const { manifest, superseded } = await claimFolder(input, dir, preset, marker);
  const outcome: PresetOutcome = { preset: preset.name, dir, status: "done", images: 0, expected: 0, failed: 0, costUsd: manifestCost(manifest) };
  if (superseded) outcome.superseded = superseded;
  const state: RunState = { input, preset, dir, manifest, outcome, skipped: false, polishing: false };
  const { generate } = await import("../generate/generate.js");
  const options = generateOptionsFor(person, input.preset, identity.name, dir, input.concurrency);
  const result = await generate(
    {
      options,
      cwd: input.batchDir,
      // A batch file carries its own defaults: the project config's count/model/format do not apply.
      settings: { ...input.settings, projectConfig: undefined, projectConfigPath: undefined },
      env: input.env,
      inject: {
        identity: { record: like, home: input.home },
        folderLocked: true,
        resume: input.resume,
        runSlots: presetRunSlots(state),
        faces: (fn) => input.faces.run(fn),
        // Paid images stay where the manifest says they are: not-kept ones are marked, not moved.
        curation: { title: `${person.name} · ${preset.name}`, keepInPlace: true },
        curationCache: curationCache(state, marker, options),
      },
    },
    { signal: input.signal, now: input.now, onEvent: forward(state) },
  ).catch(async (error: unknown) => {
    // A full disk anywhere in the run (manifest, curation, polish): named, with the folder.
    throw (await enospcError(error, dir, 0)) ?? error;
  });
  await recordResult(state, result as Extract<GenerateResult, { dryRun: false }>);
  return outcome;
}

/**
 * The last curation of this folder, by the images it was made from and the flags: a re-run with
 * nothing new keeps it (and its scores) instead of scoring everything again.
 */
function curationCache(state: RunState, marker: Marker, options: GenerateOptions): { fresh(): Promise<boolean>; remember(): Promise<void> } {
  const { dir } = state;
  const fingerprint = async () => {
    const { readManifest } = await import("../generation/manifest.js");
    const manifest = await readManifest(dir);
    const done = Object.values(manifest?.images ?? {}).flatMap((e) => (e.status === "done" && e.file ? [[e.file, e.sha256 ?? ""]] : []));
    const { keepBest, minSimilarity, until, crops, score } = options;
    return sha256({ files: done, keep: keepBest ?? null, min: minSimilarity ?? null, crops: Boolean(crops), until: until ?? null, score: score ?? null });
  };
  return {
    fresh: async () => {
      const { GALLERY_FILE } = await import("../curation/gallery.js");
      if (marker.curation !== (await fingerprint()) || !(await exists(join(dir, GALLERY_FILE)))) return false;
      state.outcome.gallery = join(dir, GALLERY_FILE);
      return true;
    },
    remember: async () => {
      marker.curation = await fingerprint();
      await writeJsonAtomic(join(dir, BATCH_MARKER_FILE), marker);
    },
  };
}

/** The use case's events with whose they are: the engine's as `gen.event`, polish's as `polish.event`. */
function forward(state: RunState): (event: GenerateEvent) => void {
  const { person, onEvent } = state.input;
  const preset = state.outcome.preset;
  return (event) => {
    if (event.type === "polish.start") state.polishing = true;
    if (state.polishing && (event.type.startsWith("polish.") || event.type.startsWith("gen.local."))) {
      onEvent({ type: "polish.event", person: person.name, preset, event: event as PolishFolderEvent });
      return;
    }
    // A preset with nothing left to make says so once (preset.skipped), not with engine events.
    if (state.skipped || NOT_RUN_EVENTS.has(event.type)) return;
    onEvent({ type: "gen.event", person: person.name, preset, event: event as RunEvent });
  };
}

/** The use case's own events that a batch does not pass on (its curation ends in curate.done). */
const NOT_RUN_EVENTS = new Set(["gen.scored", "curation.start", "curation.scoring", "curation.scored", "rehearsal.ready", "lock.takeover"]);

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

function manifestCost(manifest: Manifest | undefined): number {
  if (!manifest) return 0;
  return Object.values(manifest.images).reduce((sum, e) => sum + (e.costUsd ?? 0), 0);
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
