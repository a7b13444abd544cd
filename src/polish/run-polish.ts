/**
 * `headshot polish <folder>`: the face detail pass (and optional upscale) over every kept image of
 * a folder, one image at a time, with proof per image: likeness and quality scored before and
 * after, the polished version kept only when likeness did not drop by more than the margin.
 *
 * Layout (next to the images, nothing is moved or overwritten):
 *   <folder>/polished/<stem>.after.png   the face pass at the original size (always PNG, lossless,
 *                                        so pixels outside the face mask are exactly the original's)
 *   <folder>/polished/<stem>.png         the final: the kept version, upscaled when asked
 *   <folder>/polished/polish-manifest.json, .work/ (regions, masks, model answers)
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { InterruptedError, UsageError } from "../errors.js";
import type { ImageScore } from "../scoring/similarity.js";
import { scoreImage } from "../scoring/score-images.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { writeFinalImage } from "../generation/writer.js";
import { blendFaces, decodeRgb, encodePng, findFaces, writeWorkingFiles } from "./image-io.js";
import { ManifestWriter, POLISH_MANIFEST, readPolishManifest, type FaceEntry, type PolishEntry, type PolishManifest, type ScoreBrief } from "./manifest.js";
import { faceSeed, keepPolished } from "./plan.js";
import { renderPolishGallery } from "./gallery.js";
import { runFaceStep, runUpscaleStep, recoverLostCreates } from "./remote-steps.js";
import type { PolishRequest } from "./request.js";

export type { PolishEvent, PolishRequest } from "./request.js";

export const POLISHED_DIR = "polished";
const WORK_DIR = ".work";
const IMAGE = /\.(jpe?g|png|webp|tiff?|avif)$/i;
/** Files other commands write into an output folder that are not headshots. */
const NOT_HEADSHOTS = new Set(["contact-sheet.png"]);

export interface PolishOutcome {
  manifestPath: string;
  manifest: PolishManifest;
  polished: number;
  keptOriginal: number;
  skipped: number;
  failed: number;
  costUsd: number;
}

/** The kept images of an output folder: top level only (rejected/ and polished/ are not). */
export async function listKeptImages(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    throw new UsageError(`${dir} is not a folder`, { code: "E_POLISH_DIR", hint: "pass the folder gen wrote (headshot polish ./headshots/<name>/<preset> --identity <name>)" });
  }
  return entries.filter((e) => e.isFile() && !e.name.startsWith(".") && IMAGE.test(e.name) && !NOT_HEADSHOTS.has(e.name)).map((e) => e.name).sort();
}

function stem(file: string): string {
  return basename(file).replace(/\.[^.]+$/, "");
}

function brief(score: ImageScore): ScoreBrief {
  return {
    ...(score.relative !== undefined ? { relative: Math.round(score.relative * 1000) / 1000 } : {}),
    ...(score.similarity !== undefined ? { similarity: Math.round(score.similarity * 1000) / 1000 } : {}),
    verdict: score.verdict,
    quality: score.quality.score,
    faces: score.faces,
  };
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

export async function openManifest(request: PolishRequest, path: string, now: () => Date): Promise<ManifestWriter> {
  const existing = await readPolishManifest(path);
  const data: PolishManifest = existing ?? {
    schemaVersion: 1,
    kind: "headshot-polish",
    identity: request.identity,
    backend: request.backend.id,
    model: request.backend.modelRef,
    placeholder: request.backend.placeholder,
    settings: request.settings,
    createdAt: now().toISOString(),
    updatedAt: now().toISOString(),
    images: {},
  };
  if (existing && (existing.backend !== request.backend.id || existing.identity !== request.identity)) {
    throw new UsageError(`${path} belongs to an earlier polish with --backend ${existing.backend} --identity ${existing.identity}`, {
      code: "E_POLISH_MANIFEST",
      hint: "re-run with the same backend and identity, or delete the polished/ folder to start over",
    });
  }
  return new ManifestWriter(path, data, now);
}

function samplerOf(settings: PolishRequest["settings"]): NonNullable<PolishEntry["sampler"]> {
  return { steps: settings.steps, guidance: settings.guidance, loraScale: settings.loraScale };
}

/** Same face pass as recorded: strength, sampler, prompt and seeds (the margin and upscale do not repaint). */
function sameRequest(entry: PolishEntry, request: Pick<PolishRequest, "settings" | "prompt">): boolean {
  if (entry.status === "skipped") return true;
  const sampler = samplerOf(request.settings);
  // A manifest from before the sampler was recorded: its faces were asked with the same defaults.
  const recorded = entry.sampler ?? sampler;
  return (
    entry.strength === request.settings.strength &&
    recorded.steps === sampler.steps &&
    recorded.guidance === sampler.guidance &&
    recorded.loraScale === sampler.loraScale &&
    entry.prompt === request.prompt &&
    entry.faces.every((f) => f.seed === faceSeed(request.settings.seed, entry.sourceSha256, f.index))
  );
}

/** Plans an image: faces, regions and seeds (free: the face models run locally). */
export async function planImage(dir: string, file: string, request: Pick<PolishRequest, "settings" | "prompt">): Promise<PolishEntry> {
  const path = join(dir, file);
  const image = await decodeRgb(path);
  const sourceSha256 = await sha256(path);
  const faces = await findFaces(image, request.settings.maxFaces, request.settings.cropFactor);
  return {
    file,
    sourceSha256,
    width: image.width,
    height: image.height,
    status: faces.length ? "planned" : "skipped",
    prompt: request.prompt,
    strength: request.settings.strength,
    sampler: samplerOf(request.settings),
    faces: faces.map((f, index): FaceEntry => ({ index, box: f.box, region: f.region, seed: faceSeed(request.settings.seed, sourceSha256, index), status: "pending" })),
    ...(faces.length ? {} : { note: "no face found: nothing to polish" }),
  };
}

export async function runPolish(request: PolishRequest): Promise<PolishOutcome> {
  const now = request.now ?? (() => new Date());
  const outDir = join(request.dir, POLISHED_DIR);
  const workDir = join(outDir, WORK_DIR);
  await mkdir(workDir, { recursive: true });
  const writer = await openManifest(request, join(outDir, POLISH_MANIFEST), now);
  const files = request.files ?? (await listKeptImages(request.dir));
  await recoverLostCreates(writer, request.backend, request.upscaler, request.signal);
  const started = Date.now();
  for (const [i, file] of files.entries()) {
    if (request.signal.aborted) throw new InterruptedError();
    let entry = writer.data.images[file];
    const currentSha = await sha256(join(request.dir, file));
    // The image changed, or the face pass asked for is a different one: start this image again.
    if (entry && (entry.sourceSha256 !== currentSha || !sameRequest(entry, request))) entry = undefined;
    // An upscale counts once it is done: one cut off by a kill (left "creating" or "created") is
    // finished now, re-attached to the prediction the server already made (recoverLostCreates).
    const upscaled = entry?.upscale?.status === "done" ? entry.upscale.scale : 0;
    if (entry?.status === "done" && upscaled !== (request.upscaler ? request.settings.upscale : 0)) {
      // Only the upscale changed (or was cut off): the paid face pass is reused, the final file is made again.
      const kept = entry.decision === "polished" && entry.after ? join(request.dir, POLISHED_DIR, entry.after.file) : join(request.dir, file);
      if (!request.upscaler) delete entry.upscale;
      await finishImage(request, writer, entry, kept, join(request.dir, POLISHED_DIR, WORK_DIR));
      await writer.save();
    }
    if (entry?.status === "done" || entry?.status === "skipped") {
      request.onEvent?.({ type: "polish.progress", done: i + 1, total: files.length, etaSeconds: 0 });
      continue;
    }
    request.onEvent?.({ type: "polish.image.started", file, index: i + 1, total: files.length });
    entry ??= await planImage(request.dir, file, request);
    writer.data.images[file] = entry;
    await writer.save();
    if (entry.status === "skipped") {
      request.onEvent?.({ type: "polish.image.skipped", file, reason: entry.note ?? "" });
      continue;
    }
    entry.status = "running";
    await polishImage(request, writer, entry, workDir);
    const elapsed = (Date.now() - started) / 1000;
    const perImage = elapsed / (i + 1);
    request.onEvent?.({ type: "polish.progress", done: i + 1, total: files.length, etaSeconds: Math.round(perImage * (files.length - i - 1)) });
  }
  // Before/after page next to the manifest (rewritten after every run).
  await writeFileAtomic(join(outDir, "index.html"), renderPolishGallery(writer.data, now().toISOString()));
  const entries = Object.values(writer.data.images).filter((e) => files.includes(e.file));
  const cost = entries.reduce((s, e) => s + e.faces.reduce((f, face) => f + (face.costUsd ?? 0), 0) + (e.upscale?.costUsd ?? 0), 0);
  return {
    manifestPath: writer.path,
    manifest: writer.data,
    polished: entries.filter((e) => e.decision === "polished").length,
    keptOriginal: entries.filter((e) => e.decision === "original").length,
    skipped: entries.filter((e) => e.status === "skipped").length,
    failed: entries.filter((e) => e.status === "failed").length,
    costUsd: Math.round(cost * 1000) / 1000,
  };
}

/** Face pass for every face, blend, score both versions, decide, upscale, write the final. Returns faces paid for. */
async function polishImage(request: PolishRequest, writer: ManifestWriter, entry: PolishEntry, workDir: string): Promise<number> {
  const outDir = join(request.dir, POLISHED_DIR);
  const source = join(request.dir, entry.file);
  const name = stem(entry.file);
  let image = await decodeRgb(source);
  let paid = 0;
  for (const face of entry.faces) {
    if (face.status === "done" && face.output) continue;
    const paths = { image: join(workDir, `${name}.f${face.index}.region.png`), mask: join(workDir, `${name}.f${face.index}.mask.png`) };
    await writeWorkingFiles(image, face.box, face.region, paths);
    const ok = await runFaceStep({
      request,
      writer,
      entry,
      face,
      paths,
      workDir,
      name,
      onCreating: () => request.onEvent?.({ type: "polish.face.creating", file: entry.file, face: face.index }),
      onCreated: (remoteId) => request.onEvent?.({ type: "polish.face.created", file: entry.file, face: face.index, remoteId }),
    });
    if (ok) paid++;
    if (face.status === "failed") {
      entry.status = "failed";
      entry.note = `face ${face.index}: ${face.error ?? "failed"}`;
      await writer.save();
      return paid;
    }
  }
  const blended = await blendFaces(image, entry.faces.map((f) => ({ box: f.box, region: f.region, patchPath: join(outDir, f.output as string) })));
  entry.faces.forEach((f, k) => (f.colour = blended.colour[k]));
  image = blended.image;
  const afterName = `${name}.after.png`;
  const afterRaw = join(workDir, `${name}.after.raw.png`);
  await writeFileAtomic(afterRaw, await encodePng(image));
  const xmp = xmpFor(request, entry, now(request));
  const afterFile = await writeFinalImage({ rawPath: afterRaw, targetPath: join(outDir, afterName), format: "png", quality: 100, xmp });
  entry.after = { file: afterName, sha256: afterFile.sha256 };
  await writer.save();
  // Proof: the same scorer as `headshot score`, on both versions.
  const before = await scoreImage(source, request.reference, { ...(request.home ? { home: request.home } : {}) });
  const after = await scoreImage(join(outDir, afterName), request.reference, { ...(request.home ? { home: request.home } : {}) });
  entry.scores = { before: brief(before), after: brief(after) };
  const decision = keepPolished(before, after, request.settings.likenessMargin);
  entry.decision = decision.keep ? "polished" : "original";
  entry.reason = decision.reason;
  await writer.save();
  await finishImage(request, writer, entry, decision.keep ? join(outDir, afterName) : source, workDir);
  entry.status = "done";
  await writer.save();
  request.onEvent?.({
    type: "polish.image.done",
    file: entry.file,
    decision: entry.decision,
    reason: entry.reason,
    before: entry.scores.before.relative,
    after: entry.scores.after.relative,
    final: `${POLISHED_DIR}/${entry.final?.file ?? ""}`,
    costUsd: entry.faces.reduce((s, f) => s + (f.costUsd ?? 0), 0) + (entry.upscale?.costUsd ?? 0),
  });
  return paid;
}

function now(request: PolishRequest): Date {
  return request.now ? request.now() : new Date();
}

function xmpFor(request: PolishRequest, entry: PolishEntry, at: Date) {
  return {
    prompt: entry.prompt,
    seed: entry.faces[0]?.seed ?? 0,
    model: request.backend.modelRef,
    preset: "polish",
    key: `polish:${entry.file}`,
    placeholder: request.backend.placeholder,
    createdAt: at.toISOString(),
    tool: "headshot polish",
  };
}

/** The final file: the kept version, upscaled when asked, with the AI label and no EXIF. */
async function finishImage(request: PolishRequest, writer: ManifestWriter, entry: PolishEntry, keptPath: string, workDir: string): Promise<void> {
  const outDir = join(request.dir, POLISHED_DIR);
  let raw = keptPath;
  if (request.upscaler && request.settings.upscale > 0) {
    raw = await runUpscaleStep({ request, writer, entry, inputPath: keptPath, workDir, name: stem(entry.file) });
  }
  const finalName = `${stem(entry.file)}.png`;
  const written = await writeFinalImage({ rawPath: raw, targetPath: join(outDir, finalName), format: "png", quality: 100, xmp: xmpFor(request, entry, now(request)) });
  entry.final = { file: finalName, sha256: written.sha256, width: written.width, height: written.height };
}
