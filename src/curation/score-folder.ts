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
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Files this command writes itself with --gallery: never scored as photos. */
const OWN_OUTPUTS = new Set(["contact-sheet.png"]);

async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith(".") && IMAGE_EXTENSIONS.test(e.name) && !OWN_OUTPUTS.has(e.name))
    .map((e) => e.name)
    .sort();
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
  const top = await listImages(target);
  const setAside = !request.checkpoints && (await isDir(join(target, REJECTED_DIR))) ? (await listImages(join(target, REJECTED_DIR))).map((f) => `${REJECTED_DIR}/${f}`) : [];
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
  const result: ScoreFolderResult = { dir: target, reference, flagged: [], setAside, ...(await scoreOrCurate(request, io, target, files, reference)) };
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
