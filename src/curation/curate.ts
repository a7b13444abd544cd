/**
 * After a batch: score every image against the identity, keep the best, move the rest to
 * `<out>/rejected/`, cut the crops of the kept ones, record scores in the sidecars, and write the
 * contact sheet and `index.html` next to the manifest. `gen --keep-best/--min-similarity/--crops`
 * calls this once the engine is done; `score --gallery` calls it without moving anything.
 */
import { readFile } from "node:fs/promises";
import { basename, join, relative } from "node:path";
import { FACE_MODEL_ID } from "../selfies/faces.js";
import { IDENTITY_THRESHOLDS } from "../scoring/calibration.js";
import { scoreImages, type ScoreOptions } from "../scoring/score-images.js";
import { selectBest, type RejectReason, type Selection } from "../scoring/select.js";
import { toScoreRecord, type IdentityReference, type ImageScore, type ScoreRecord } from "../scoring/similarity.js";
import { sidecarPathFor } from "../generation/writer.js";
import type { XmpFields } from "../generation/xmp.js";
import { writeGalleryAndSheet } from "./contact-sheet.js";
import { CROPS_DIR, makeCrops, type CropResult } from "./crops.js";
import type { GalleryEntry } from "./gallery.js";
import { moveRejected, REJECT_MESSAGES, writeScoreToSidecar } from "./rejected.js";

export interface CurateImage {
  /** Path relative to outDir. */
  file: string;
  /** Manifest key, echoed back so the caller can update its entry. */
  key?: string;
  prompt?: string;
  seed?: number;
  /** Label fields for the crops; read from the image's sidecar when omitted. */
  xmp?: XmpFields;
  /** Already set aside (e.g. found in rejected/ by `score`): shown dimmed, never moved. */
  rejected?: { reason: string };
}

export interface CurateOptions {
  outDir: string;
  reference: IdentityReference;
  /** HEADSHOT_HOME, for the analysis cache. */
  home?: string;
  keep?: number;
  minSimilarity?: number;
  /** Move images that are not kept to rejected/ (gen). `score` only dims them. */
  moveRejected: boolean;
  crops: boolean;
  /** Which sidecars get the score: every image's (gen), or only existing ones (score). */
  sidecars: "all" | "existing" | "none";
  title: string;
  /** Shown in the gallery when the images are not generated photos (gallery-html.ts GalleryPage). */
  notice?: string | undefined;
  /** Scores already measured (e.g. during `gen --until`), by file. */
  scored?: Map<string, ImageScore>;
  signal?: AbortSignal;
  onProgress?: ScoreOptions["onProgress"];
  now?: () => Date;
}

export interface CuratedImage {
  key?: string;
  /** Where the image is now, relative to outDir. */
  file: string;
  sidecar: string;
  kept: boolean;
  reason?: RejectReason;
  score: ScoreRecord;
  /** Crop files relative to outDir. */
  crops: Array<{ name: string; file: string; width: number; height: number; upscaled: boolean; padded: boolean; circleSafe?: boolean }>;
}

export interface CurateResult {
  images: CuratedImage[];
  /** The raw scores, in the order of the images given (files as given, before any move). */
  scores: ImageScore[];
  selection: Selection;
  galleryPath: string;
  contactSheetPath: string;
  /** Crops not made, with why (no label fields for an image that has no sidecar). */
  warnings: string[];
}

async function sidecarOf(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(sidecarPathFor(path), "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The XMP label fields from a gen sidecar (it carries prompt, seed, model, preset, key...). */
export function xmpFromSidecar(sidecar: Record<string, unknown> | undefined): XmpFields | undefined {
  if (!sidecar || typeof sidecar.prompt !== "string" || typeof sidecar.seed !== "number") return undefined;
  const text = (v: unknown, fallback: string): string => (typeof v === "string" ? v : fallback);
  return {
    prompt: sidecar.prompt,
    seed: sidecar.seed,
    model: text(sidecar.model, "unknown"),
    preset: text(sidecar.preset, "unknown"),
    key: text(sidecar.key, text(sidecar.file, "")),
    placeholder: sidecar.placeholder === true,
    createdAt: text(sidecar.createdAt, new Date(0).toISOString()),
    tool: text(sidecar.tool, "headshot"),
  };
}

const rel = (outDir: string, path: string): string => relative(outDir, path).split("\\").join("/");

/** Face-aware crops of a kept image, labelled as AI-generated from its XMP (none without one). */
async function cropsOf(outDir: string, image: CurateImage, file: string, box: Parameters<typeof makeCrops>[1], sidecar: Record<string, unknown> | undefined, warnings: string[]): Promise<CuratedImage["crops"]> {
  const xmp = image.xmp ?? xmpFromSidecar(sidecar);
  if (!xmp) {
    warnings.push(`${file}: no crops (no sidecar with its prompt and seed to label them as AI-generated)`);
    return [];
  }
  const stem = basename(file).replace(/\.[^.]+$/, "");
  const crops: CropResult[] = await makeCrops(join(outDir, file), box, { outDir: join(outDir, CROPS_DIR), stem, xmp });
  return crops.map((c) => ({
    name: c.name,
    file: rel(outDir, c.path),
    width: c.width,
    height: c.height,
    upscaled: c.upscaled,
    padded: c.padded,
    ...(c.circleSafe !== undefined ? { circleSafe: c.circleSafe } : {}),
  }));
}

/** The gallery's card for one image: prompt and seed from the caller, the XMP or the sidecar. */
function galleryEntryOf(c: CuratedImage, source: CurateImage, sidecar: Record<string, unknown> | undefined): GalleryEntry {
  const entry: GalleryEntry = { file: c.file, kept: c.kept, score: c.score };
  const rejectedReason = c.reason ? REJECT_MESSAGES[c.reason] : source.rejected?.reason;
  if (rejectedReason) entry.rejectedReason = rejectedReason;
  const fromSidecar = xmpFromSidecar(sidecar);
  const prompt = source.prompt ?? source.xmp?.prompt ?? fromSidecar?.prompt;
  const seed = source.seed ?? source.xmp?.seed ?? fromSidecar?.seed;
  if (prompt !== undefined) entry.prompt = prompt;
  if (seed !== undefined) entry.seed = seed;
  if (c.crops.length) entry.crops = c.crops.map((x) => ({ name: x.name, file: x.file }));
  return entry;
}

export async function curate(images: CurateImage[], options: CurateOptions): Promise<CurateResult> {
  const { outDir } = options;
  const now = options.now ?? (() => new Date());
  const toScore = images.filter((i) => !options.scored?.has(i.file));
  const fresh = await scoreImages(
    toScore.map((i) => join(outDir, i.file)),
    options.reference,
    { root: outDir, ...(options.home ? { home: options.home } : {}), ...(options.signal ? { signal: options.signal } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
  );
  const byFile = new Map<string, ImageScore>(options.scored ?? []);
  for (const s of fresh) byFile.set(s.file, s);
  const candidates = images.filter((i) => !i.rejected);
  const selection = selectBest(
    candidates.map((i) => byFile.get(i.file)!),
    { ...(options.keep !== undefined ? { keep: options.keep } : {}), ...(options.minSimilarity !== undefined ? { minSimilarity: options.minSimilarity } : {}) },
  );
  const reasonOf = new Map(selection.rejected.map((r) => [r.score.file, r.reason]));
  const recordOf = (file: string): ScoreRecord => toScoreRecord(byFile.get(file)!, options.reference, FACE_MODEL_ID, now());

  const moved = new Map<string, string>();
  if (options.moveRejected && selection.rejected.length) {
    const done = await moveRejected(
      outDir,
      selection.rejected.map((r) => ({ file: r.score.file, score: recordOf(r.score.file), reason: r.reason })),
    );
    for (const m of done) moved.set(m.from, m.to);
  }

  const warnings: string[] = [];
  const result: CuratedImage[] = [];
  const sidecars: Array<Record<string, unknown> | undefined> = [];
  for (const image of images) {
    const score = byFile.get(image.file)!;
    const record = recordOf(image.file);
    const file = moved.get(image.file) ?? image.file;
    const path = join(outDir, file);
    const kept = !image.rejected && !reasonOf.has(image.file);
    const curated: CuratedImage = { file, sidecar: rel(outDir, sidecarPathFor(path)), kept, score: record, crops: [] };
    if (image.key) curated.key = image.key;
    const reason = reasonOf.get(image.file);
    if (reason) curated.reason = reason;
    const sidecar = await sidecarOf(path);
    sidecars.push(sidecar);
    if (kept && options.crops && score.face) curated.crops = await cropsOf(outDir, image, file, score.face.box, sidecar, warnings);
    // moveRejected already wrote the score into the moved sidecars.
    const writeSidecar = !moved.has(image.file) && (options.sidecars === "all" || (options.sidecars === "existing" && sidecar !== undefined));
    if (writeSidecar) {
      await writeScoreToSidecar(sidecarPathFor(path), basename(file), record, {
        kept,
        ...(curated.crops.length ? { crops: curated.crops.map((c) => c.file) } : {}),
      });
    }
    result.push(curated);
  }

  const entries = result.map((c, i) => galleryEntryOf(c, images[i]!, sidecars[i]));
  const { galleryPath, contactSheetPath } = await writeGalleryAndSheet(outDir, entries, {
    title: options.title,
    reference: options.reference.label,
    thresholds: { match: options.minSimilarity ?? IDENTITY_THRESHOLDS.match, doubtful: IDENTITY_THRESHOLDS.doubtful },
    generatedAt: now().toISOString(),
    notice: options.notice,
  });
  return { images: result, scores: images.map((i) => byFile.get(i.file)!), selection, galleryPath, contactSheetPath, warnings };
}
