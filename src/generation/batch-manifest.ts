/**
 * Opens the manifest of a batch from its plan: a new one (every image `planned`, written before
 * anything is created or paid), or the one an earlier run left, checked against the plan (same
 * preset, model, identity and seeds) and repaired against the files on disk.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { MANIFEST_SCHEMA_VERSION, ManifestStore, REJECTED_DIR, readManifest, type Manifest, type ManifestEntry } from "./manifest.js";
import { repairManifest } from "./manifest-repair.js";
import type { GenPlan, PlannedImage } from "./plan.js";

/** Writes of the manifest during a batch are at least this far apart (changes coalesce meanwhile). */
export const MANIFEST_WRITE_INTERVAL_MS = 100;

export interface BatchMeta {
  backend: string;
  /** What runs the images: `owner/name`, `owner/name:version`, `test` or `local`. */
  modelRef: string;
  placeholder: boolean;
  tool: string;
}

export interface OpenedBatch {
  store: ManifestStore;
  /** An earlier run's manifest was found (this is a resume). */
  resumed: boolean;
  repairs: string[];
}

export function plannedEntry(image: PlannedImage, modelRef: string): ManifestEntry {
  return {
    key: image.key,
    index: image.index,
    variation: image.variation.label,
    axes: { ...image.variation.axes },
    status: "planned",
    prompt: image.prompt,
    seed: image.seed,
    model: image.model,
    modelRef,
    inputs: image.inputs,
    attempts: [],
    timing: {},
    costUsd: 0,
  };
}

function mismatch(outDir: string, what: string, recorded: unknown, now: unknown): UsageError {
  return new UsageError(`${join(outDir, "manifest.json")} belongs to a different batch: its ${what} is ${JSON.stringify(recorded)}, this run's is ${JSON.stringify(now)}`, {
    code: "E_MANIFEST_MISMATCH",
    hint: "re-run the original command to resume that batch, or pass --out with a new folder for this one",
  });
}

/** Throws E_MANIFEST_MISMATCH when the folder holds another batch. */
export function assertSameBatch(manifest: Manifest, plan: GenPlan, meta: BatchMeta): void {
  const b = manifest.batch;
  if (b.preset.name !== plan.preset.name) throw mismatch(plan.outDir, "preset", b.preset.name, plan.preset.name);
  if (b.preset.hash !== plan.preset.hash) throw mismatch(plan.outDir, "preset content hash", b.preset.hash.slice(0, 12), plan.preset.hash.slice(0, 12));
  if (b.backend !== meta.backend) throw mismatch(plan.outDir, "backend", b.backend, meta.backend);
  if (b.model !== plan.model) throw mismatch(plan.outDir, "model", b.model, plan.model);
  if ((b.identity?.name ?? null) !== (plan.identity?.name ?? null)) throw mismatch(plan.outDir, "identity", b.identity?.name ?? null, plan.identity?.name ?? null);
  if (b.seedBase !== plan.seedBase) throw mismatch(plan.outDir, "seed base", b.seedBase, plan.seedBase);
  for (const image of plan.images) {
    const entry = manifest.images[image.key];
    if (!entry || entry.status === "planned") continue;
    if (entry.seed !== image.seed) throw mismatch(plan.outDir, `seed of ${image.key}`, entry.seed, image.seed);
    if (entry.prompt !== image.prompt) {
      throw mismatch(plan.outDir, `prompt of ${image.key} (did --set change?)`, entry.prompt.slice(0, 60), image.prompt.slice(0, 60));
    }
    // `gen --keep-best` may have moved it to rejected/ under the same name: still this image.
    if (entry.status === "done" && entry.file && entry.file !== image.fileName && entry.file !== `${REJECTED_DIR}/${image.fileName}`) {
      throw mismatch(plan.outDir, `file of ${image.key} (did --format change?)`, entry.file, image.fileName);
    }
  }
}

export async function openBatch(plan: GenPlan, meta: BatchMeta, now: () => Date = () => new Date()): Promise<OpenedBatch> {
  await mkdir(plan.outDir, { recursive: true });
  const existing = await readManifest(plan.outDir);
  if (existing) {
    assertSameBatch(existing, plan, meta);
    const repairs = await repairManifest(existing, plan.outDir);
    for (const image of plan.images) {
      const entry = existing.images[image.key];
      if (!entry) existing.images[image.key] = plannedEntry(image, meta.modelRef);
      else if (entry.status === "planned") existing.images[image.key] = { ...plannedEntry(image, meta.modelRef), attempts: entry.attempts };
    }
    existing.batch.count = Math.max(existing.batch.count, plan.images.length);
    existing.batch.modelRef = meta.modelRef;
    existing.batch.runs = [...(existing.batch.runs ?? []), { startedAt: now().toISOString(), tool: meta.tool }];
    const store = new ManifestStore(plan.outDir, existing, now, MANIFEST_WRITE_INTERVAL_MS);
    await store.commit();
    return { store, resumed: true, repairs };
  }
  const stamp = now().toISOString();
  const manifest: Manifest = {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    tool: meta.tool,
    createdAt: stamp,
    updatedAt: stamp,
    batch: {
      preset: { name: plan.preset.name, hash: plan.preset.hash },
      identity: plan.identity ? { name: plan.identity.name, trigger: plan.identity.trigger, classWord: plan.identity.classWord } : null,
      backend: meta.backend,
      model: plan.model,
      modelRef: meta.modelRef,
      seedBase: plan.seedBase,
      count: plan.images.length,
      format: plan.images[0]?.sampler.outputFormat ?? "png",
      placeholder: meta.placeholder,
      runs: [{ startedAt: stamp, tool: meta.tool }],
    },
    images: Object.fromEntries(plan.images.map((image) => [image.key, plannedEntry(image, meta.modelRef)])),
  };
  const store = new ManifestStore(plan.outDir, manifest, now, MANIFEST_WRITE_INTERVAL_MS);
  await store.commit();
  return { store, resumed: false, repairs: [] };
}
