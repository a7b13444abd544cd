/**
 * A batch whose every planned image is already done, read as the engine would end it, without a
 * backend, a manifest write or the engine: a batch re-run of a finished preset goes straight to
 * curation and its outcome (no Replicate session, no Python process, no new `runs` line).
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { assertSameBatch, MANIFEST_WRITE_INTERVAL_MS } from "./batch-manifest.js";
import type { CreateGate, EngineResult } from "./engine.js";
import { ManifestStore, readManifest, type ManifestEntry } from "./manifest.js";
import type { GenPlan } from "./plan.js";
import type { RunGenOutput } from "./run-plan.js";

/** Done, with its file where the manifest says and of the recorded size (else the engine repairs it). */
export async function doneOnDisk(entry: ManifestEntry | undefined, outDir: string): Promise<boolean> {
  if (entry?.status !== "done" || !entry.file) return false;
  const found = await stat(join(outDir, entry.file)).catch(() => undefined);
  return Boolean(found?.isFile() && (entry.bytes === undefined || found.size === entry.bytes));
}

/**
 * The run's output when the folder's manifest belongs to this plan and every image of it is done on
 * disk (and no other entry is left planned or failed); undefined otherwise (the engine runs).
 * The gate is opened as the engine opens it, so `--until` counts the images made earlier.
 */
export async function completeRun(plan: GenPlan, backend: string, gate: CreateGate | undefined): Promise<RunGenOutput | undefined> {
  const manifest = await readManifest(plan.outDir).catch(() => undefined);
  if (!manifest) return undefined;
  try {
    assertSameBatch(manifest, plan, { backend, modelRef: manifest.batch.modelRef, placeholder: manifest.batch.placeholder, tool: manifest.tool });
  } catch {
    return undefined; // the engine path reports the mismatch
  }
  if (Object.values(manifest.images).some((e) => e.status !== "done")) return undefined;
  const entries = plan.images.map((image) => manifest.images[image.key]);
  for (const entry of entries) if (!(await doneOnDisk(entry, plan.outDir))) return undefined;
  const done = entries as ManifestEntry[];
  await gate?.open?.(done);
  const spent = done.reduce((sum, e) => sum + e.costUsd, 0);
  const result: EngineResult = {
    total: plan.images.length,
    skipped: done.length,
    finished: 0,
    entries: done,
    interrupted: false,
    spentUsd: Math.round(spent * 1000) / 1000,
    spentThisRunUsd: 0,
    seconds: 0,
    interruptedJobs: [],
  };
  const store = new ManifestStore(plan.outDir, manifest, undefined, MANIFEST_WRITE_INTERVAL_MS);
  return {
    result,
    opened: { store, resumed: true, repairs: [] },
    generator: undefined,
    placeholder: manifest.batch.placeholder,
    modelRef: manifest.batch.modelRef,
    references: manifest.batch.references,
  };
}
