/**
 * From a loaded batch file to what each person gets: defaults merged under each person, paths
 * made absolute (relative to the batch file), the `--backend` override applied. Pure.
 */
import { isAbsolute, resolve } from "node:path";
import type { LoadedBatch } from "./load.js";
import type { GenerateOptions } from "../generate/options.js";
import { CURATION_FLAG_KEYS, type BatchPerson, type CurationFlags, type PresetEntry } from "./schema.js";

export type BatchBackend = "replicate" | "local" | "test";

/** How near a value was written to the preset run: 2 the preset entry, 1 the person, 0 `defaults`. */
type Level = 0 | 1 | 2;

export const DEFAULT_OUT = "./headshots";
export const DEFAULT_BATCH_CONCURRENCY = 6;
export const DEFAULT_BACKEND: BatchBackend = "replicate";

export interface ResolvedPreset {
  /** Preset name, or an absolute preset file path (a file given relative to the batch file). */
  ref: string;
  /** As written in the batch file (for messages). */
  written: string;
  count: number | undefined;
  /** Where `count` was written: 2 the entry, 1 the person, 0 `defaults` (see `generateOptionsFor`). */
  countLevel: Level;
  set: string[];
  /** Curation flags this entry sets itself (over the person's); absent when it sets none. */
  flags?: CurationFlags;
}

export interface ResolvedPerson {
  name: string;
  /** Absolute selfies folder (train when needed), or undefined for `identity:`. */
  selfies: string | undefined;
  /** Name of the identity to use (the person's name when training from selfies). */
  identity: string;
  trains: boolean;
  trigger: string | undefined;
  backend: BatchBackend;
  /** The backend came from `--backend` rather than the file. */
  backendOverridden: boolean;
  classWord: string | undefined;
  trainSteps: number | undefined;
  presets: ResolvedPreset[];
  keepBest: number | undefined;
  minSimilarity: number | undefined;
  crops: boolean;
  until: number | undefined;
  /** Where `until` was written: 1 the person, 0 `defaults`. */
  untilLevel: Level;
  maxCount: number | undefined;
  /** The per-preset-run spend cap (gen --budget), not the batch's `budget:`. */
  runBudget: number | undefined;
  score: boolean | undefined;
  polish: boolean | undefined;
  format: "png" | "jpg" | "webp" | undefined;
}

/** What one preset run of a person is asked to curate: the entry's own flags over the person's. */
export function presetFlags(person: ResolvedPerson, preset: ResolvedPreset): CurationFlags {
  const own = preset.flags ?? {};
  const pick = <K extends keyof CurationFlags>(key: K, personValue: CurationFlags[K]): CurationFlags[K] => (own[key] !== undefined ? own[key] : personValue);
  return {
    keepBest: pick("keepBest", person.keepBest),
    minSimilarity: pick("minSimilarity", person.minSimilarity),
    until: pick("until", person.until),
    maxCount: pick("maxCount", person.maxCount),
    budget: pick("budget", person.runBudget),
    crops: pick("crops", person.crops),
    score: pick("score", person.score),
    polish: pick("polish", person.polish),
  };
}

export interface ResolvedBatch {
  file: string;
  out: string;
  budget: number | undefined;
  concurrency: number;
  people: ResolvedPerson[];
}

/** A preset entry is a file when it looks like a path; names are looked up like `gen --preset`. */
export function looksLikeFile(ref: string): boolean {
  return ref.includes("/") || ref.includes("\\") || /\.ya?ml$/i.test(ref);
}

function setList(set: Record<string, string | number | boolean> | undefined): string[] {
  return Object.entries(set ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${String(v)}`);
}

function resolvePreset(entry: PresetEntry, dir: string, count: number | undefined, countLevel: Level): ResolvedPreset {
  const written = typeof entry === "string" ? entry : entry.preset;
  const ref = looksLikeFile(written) && !isAbsolute(written) ? resolve(dir, written) : written;
  if (typeof entry === "string") return { ref, written, count, countLevel, set: [] };
  const flags = Object.fromEntries(CURATION_FLAG_KEYS.filter((k) => entry[k] !== undefined).map((k) => [k, entry[k]])) as CurationFlags;
  const own = entry.count !== undefined;
  return { ref, written, count: own ? entry.count : count, countLevel: own ? 2 : countLevel, set: setList(entry.set), ...(Object.keys(flags).length ? { flags } : {}) };
}

export function resolveBatch(loaded: LoadedBatch, options: { backend?: BatchBackend | undefined; cwd: string }): ResolvedBatch {
  const { batch, dir } = loaded;
  const defaults = batch.defaults ?? {};
  const people = batch.people.map((p: BatchPerson): ResolvedPerson => {
    const count = p.count ?? defaults.count;
    const countLevel: Level = p.count !== undefined ? 1 : 0;
    const presets = (p.presets ?? defaults.presets ?? []).map((entry) => resolvePreset(entry, dir, count, countLevel));
    const fileBackend = p.backend ?? defaults.backend ?? DEFAULT_BACKEND;
    return {
      name: p.name,
      selfies: p.selfies ? resolve(dir, p.selfies) : undefined,
      identity: p.identity ?? p.name,
      trains: Boolean(p.selfies),
      trigger: p.trigger,
      backend: options.backend ?? fileBackend,
      backendOverridden: options.backend !== undefined && options.backend !== fileBackend,
      classWord: p.class ?? defaults.class,
      trainSteps: p.trainSteps ?? defaults.trainSteps,
      presets,
      keepBest: p.keepBest ?? defaults.keepBest,
      minSimilarity: p.minSimilarity ?? defaults.minSimilarity,
      crops: p.crops ?? defaults.crops ?? false,
      until: p.until ?? defaults.until,
      untilLevel: p.until !== undefined ? 1 : 0,
      maxCount: p.maxCount ?? defaults.maxCount,
      runBudget: p.budget ?? defaults.budget,
      score: p.score ?? defaults.score,
      polish: p.polish ?? defaults.polish,
      format: p.format ?? defaults.format,
    };
  });
  return {
    file: loaded.path,
    out: resolve(dir, batch.out ?? DEFAULT_OUT),
    budget: batch.budget,
    concurrency: batch.concurrency ?? DEFAULT_BATCH_CONCURRENCY,
    people,
  };
}

/** The batch entry as `gen` options: the same curation flags, meaning the same (README "Batch files"). */
export function generateOptionsFor(person: ResolvedPerson, entry: ResolvedPreset, identity: string, dir: string, concurrency: number): GenerateOptions {
  const flags = presetFlags(person, entry);
  // --until plans --max-count images, so a count written farther out than the until does not
  // apply; one written at the until's level or nearer is passed on, and gen refuses the pair.
  const untilLevel: Level = entry.flags?.until !== undefined ? 2 : person.untilLevel;
  const countApplies = entry.count !== undefined && (flags.until === undefined || entry.countLevel >= untilLevel);
  return {
    preset: entry.ref,
    identity,
    ...(countApplies ? { count: entry.count } : {}),
    out: dir,
    set: entry.set,
    ...(person.format ? { format: person.format } : {}),
    backend: person.backend,
    concurrency,
    ...Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
    crops: Boolean(flags.crops),
  };
}
