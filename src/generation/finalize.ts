/**
 * The last step of an image: the raw output becomes the final file (re-encoded, labelled: writer.ts)
 * and its sidecar, then the manifest records it `done` and the raw output is removed. In that order,
 * so a kill at any point leaves either the raw output (finalised again on resume) or a done image.
 */
import { rm } from "node:fs/promises";
import { join, relative } from "node:path";
import type { ManifestStore } from "./manifest.js";
import type { GenPlan, PlannedImage } from "./plan.js";
import { sidecarPathFor, writeFinalImage, writeSidecar, type OutputFormat } from "./writer.js";

export async function finalizeImage(options: {
  plan: GenPlan;
  store: ManifestStore;
  image: PlannedImage;
  tool: string;
  placeholder: boolean;
  now: () => Date;
  /** Called once the files are written, before the manifest write is awaited. */
  filesWritten: () => void;
}): Promise<{ seconds: number; costUsd: number; placeholder: boolean }> {
  const { plan, store, image } = options;
  const entry = store.entry(image.key);
  if (!entry?.raw) throw new Error(`finalize without raw output for ${image.key}`);
  const rawPath = join(plan.outDir, entry.raw.path);
  const format = image.sampler.outputFormat as OutputFormat;
  const placeholder = entry.placeholder ?? options.placeholder;
  const createdAt = options.now().toISOString();
  const final = await writeFinalImage({
    rawPath,
    targetPath: image.path,
    format,
    quality: image.sampler.outputQuality,
    xmp: { prompt: image.prompt, seed: image.seed, model: entry.modelRef ?? image.model, preset: plan.preset.name, key: image.key, placeholder, createdAt, tool: options.tool, ...(entry.rehearsal ? { rehearsal: `${entry.rehearsal.note}; drawn from ${entry.rehearsal.from} (${entry.rehearsal.source})` } : {}) },
  });
  const sidecarPath = sidecarPathFor(image.path);
  const seconds = entry.timing.startedAt ? Math.round((Date.parse(createdAt) - Date.parse(entry.timing.startedAt)) / 100) / 10 : undefined;
  await writeSidecar(sidecarPath, {
    file: image.fileName,
    sha256: final.sha256,
    width: final.width,
    height: final.height,
    placeholder,
    key: image.key,
    index: image.index,
    preset: plan.preset,
    identity: plan.identity,
    variation: image.variation,
    prompt: image.prompt,
    seed: image.seed,
    model: image.model,
    modelRef: entry.modelRef,
    version: entry.version,
    predictionId: entry.predictionId,
    inputs: entry.inputs,
    costUsd: entry.costUsd,
    costSource: entry.costSource,
    createdAt,
    tool: options.tool,
    ...(entry.rehearsal ? { rehearsal: entry.rehearsal } : {}),
  });
  // The CPU and disk work is over: the next image may take this slot while the record is written.
  options.filesWritten();
  await store.update(image.key, (e) => {
    e.status = "done";
    e.file = image.fileName;
    e.sidecar = relative(plan.outDir, sidecarPath);
    e.sha256 = final.sha256;
    e.bytes = final.bytes;
    e.width = final.width;
    e.height = final.height;
    e.format = format;
    e.placeholder = placeholder;
    e.timing.doneAt = createdAt;
    if (seconds !== undefined) e.timing.seconds = seconds;
    delete e.raw;
    delete e.error;
  });
  await rm(rawPath, { force: true });
  return { seconds: seconds ?? 0, costUsd: entry.costUsd, placeholder };
}
