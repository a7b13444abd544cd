/**
 * `headshot score <dir>`: score every image in a folder against an identity (or a selfie folder),
 * flag images without exactly one face, and, for an ai-toolkit training folder, say which
 * checkpoint's samples look most like the person. With `gallery`, also writes `index.html` and
 * the contact sheet into the folder (nothing is moved).
 */
import { readdir, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { REJECTED_DIR } from "../generation/manifest.js";
import { IDENTITY_THRESHOLDS } from "../scoring/calibration.js";
import { chooseCheckpoint, parseSampleName, type CheckpointChoice } from "../scoring/checkpoints.js";
import { checkReferenceFlags, loadReference } from "../scoring/reference.js";
import { scoreImages } from "../scoring/score-images.js";
import type { IdentityReference, ImageScore } from "../scoring/similarity.js";
import type { UseCaseIo } from "../use-case.js";
import { whyNotAPhoto } from "../util/regular-file.js";

const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp|avif|tiff?|gif|heic|heif)$/i;

export interface ScoreFolderRequest {
  /** The folder as the person typed it, resolved against `cwd` (so is `selfies`). */
  dir: string;
  cwd: string;
  home: string;
  identity?: string;
  selfies?: string;
  checkpoints?: boolean;
  gallery?: boolean;
  minSimilarity?: number;
}

export type ScoreFolderEvent = { type: "score.started"; dir: string } | { type: "score.progress"; done: number; total: number; file: string };

export interface ScoreFolderResult {
  /** The folder whose images were scored (`<dir>/samples` for a training folder). */
  dir: string;
  reference: IdentityReference;
  /** In file order. */
  scores: ImageScore[];
  /** Images without exactly one face, or unreadable. */
  flagged: ImageScore[];
  /** Files under rejected/ (set aside by an earlier gen --keep-best). */
  setAside: string[];
  checkpoints?: CheckpointChoice & { name: string };
  gallery?: { index: string; contactSheet: string };
  /** Entries with an image name that are not regular files (links followed): never opened. */
  skipped?: SkippedFile[];
}

export interface SkippedFile {
  /** Relative to the scored folder, `/`-separated. */
  file: string;
  path: string;
  /** What it is, in words, as `check` says it: "a link to a folder, not a photo", … */
  reason: string;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Files this command writes itself with --gallery: never scored as photos. */
const OWN_OUTPUTS = new Set(["contact-sheet.png"]);

/**
 * The image files of a folder (sorted by name), and what was skipped: entries named like images
 * that are not files, and links to folders whatever their name (a real subfolder is not listed).
 */
async function listImages(dir: string, prefix = ""): Promise<{ files: string[]; skipped: SkippedFile[] }> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  const skipped: SkippedFile[] = [];
  for (const entry of entries) {
    if (entry.isDirectory() || entry.name.startsWith(".") || OWN_OUTPUTS.has(entry.name)) continue;
    const image = IMAGE_EXTENSIONS.test(entry.name);
    if (!image && !entry.isSymbolicLink()) continue;
    const path = join(dir, entry.name);
    const reason = await whyNotAPhoto(entry, path);
    if (reason === undefined) {
      if (image) files.push(entry.name);
    } else if (image || reason.startsWith("a link to a folder")) {
      skipped.push({ file: `${prefix}${entry.name}`, path, reason });
    }
  }
  const byFile = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return { files: files.sort(byFile), skipped: skipped.sort((a, b) => byFile(a.file, b.file)) };
}

/** The LoRA's name from the checkpoint files next to the samples (else the folder's name). */
export function trainingName(files: string[], fallback: string): string {
  const step = files.map((f) => /^(.+)_\d{9}\.safetensors$/.exec(f)?.[1]).find(Boolean);
  if (step) return step;
  const final = files.map((f) => /^(.+)\.safetensors$/.exec(f)?.[1]).find(Boolean);
  return final ?? fallback;
}

/**
 * The `score` use case. A missing reference is a usage error said before anything starts; then the
 * folder, its images and the reference are checked before any image is analysed.
 */
export async function scoreFolder(request: ScoreFolderRequest, io: UseCaseIo<ScoreFolderEvent>): Promise<ScoreFolderResult> {
  checkReferenceFlags(request);
  io.onEvent({ type: "score.started", dir: request.dir });
  const root = resolve(request.cwd, request.dir);
  if (!(await isDir(root))) {
    throw new UsageError(`${root} is not a folder`, { code: "E_SCORE_DIR", hint: "pass the folder that holds the images: headshot score ./headshots/jane --identity jane" });
  }
  const trainingDir = request.checkpoints ? root : undefined;
  const target = trainingDir && (await isDir(join(root, "samples"))) ? join(root, "samples") : root;
  const listed = await listImages(target);
  const top = listed.files;
  const aside = !request.checkpoints && (await isDir(join(target, REJECTED_DIR))) ? await listImages(join(target, REJECTED_DIR), `${REJECTED_DIR}/`) : { files: [], skipped: [] };
  const setAside = aside.files.map((f) => `${REJECTED_DIR}/${f}`);
  const skipped = [...listed.skipped, ...aside.skipped];
  const files = [...top, ...setAside];
  if (files.length === 0) {
    throw new UsageError(`no images in ${target}`, {
      code: "E_SCORE_EMPTY",
      hint: request.checkpoints ? "pass ai-toolkit's output folder for the identity (it holds samples/)" : "pass a folder with JPEG, PNG or WebP images (e.g. the --out folder of headshot gen)",
    });
  }
  if (request.checkpoints && !top.some((f) => parseSampleName(f))) {
    throw new UsageError(`no ai-toolkit samples in ${target}`, {
      code: "E_SCORE_SAMPLES",
      hint: "samples are named <unix_ms>__<step 9 digits>_<i>.jpg; pass the training output folder (<training_folder>/<name>) or its samples/ folder",
    });
  }
  // Reference first: a wrong --identity fails before any image is analysed.
  const reference = await loadReference({
    home: request.home,
    ...(request.identity ? { identity: request.identity } : {}),
    ...(request.selfies ? { selfies: resolve(request.cwd, request.selfies) } : {}),
    signal: io.signal,
  });
  const result: ScoreFolderResult = { dir: target, reference, flagged: [], setAside, ...(skipped.length ? { skipped } : {}), ...(await scoreOrCurate(request, io, target, files, reference)) };
  result.flagged = result.scores.filter((s) => s.faces !== 1 || s.verdict === "unreadable");
  if (request.checkpoints) {
    const dirFiles = trainingDir ? (await readdir(trainingDir)).filter((f) => f.endsWith(".safetensors")) : [];
    const name = trainingName(dirFiles, basename(trainingDir ?? root));
    result.checkpoints = { name, ...chooseCheckpoint(result.scores, { name, files: dirFiles, matchThreshold: IDENTITY_THRESHOLDS.match }) };
  }
  return result;
}

/** With `gallery`, curation scores the images and writes the gallery (nothing moved); else just scores. */
async function scoreOrCurate(
  request: ScoreFolderRequest,
  io: UseCaseIo<ScoreFolderEvent>,
  target: string,
  files: string[],
  reference: IdentityReference,
): Promise<Pick<ScoreFolderResult, "scores" | "gallery">> {
  const onProgress = (done: number, total: number, file: string): void => io.onEvent({ type: "score.progress", done, total, file });
  if (!request.gallery) {
    return { scores: await scoreImages(files.map((f) => join(target, f)), reference, { root: target, home: request.home, signal: io.signal, onProgress }) };
  }
  const { curate } = await import("./curate.js");
  const curated = await curate(
    files.map((file) => (file.startsWith(`${REJECTED_DIR}/`) ? { file, rejected: { reason: "set aside by an earlier run" } } : { file })),
    {
      outDir: target,
      reference,
      home: request.home,
      ...(request.minSimilarity !== undefined ? { minSimilarity: request.minSimilarity } : {}),
      moveRejected: false,
      crops: false,
      sidecars: "existing",
      title: `Headshots: ${basename(target)}`,
      signal: io.signal,
      onProgress,
    },
  );
  return { scores: curated.scores, gallery: { index: curated.galleryPath, contactSheet: curated.contactSheetPath } };
}
