/**
 * `gen --keep-best` / `--min-similarity`: images that are not kept move to `<out>/rejected/` with
 * their sidecars, and each sidecar records the score and why it was set aside, so nothing paid
 * for is deleted and a person can still fish one out.
 */
import { mkdir, rename } from "node:fs/promises";
import { basename, join } from "node:path";
import { writeJsonAtomic } from "../util/atomic-write.js";
import { readJson } from "../util/fs.js";
import { REJECTED_DIR } from "../generation/manifest.js";
import { sidecarPathFor } from "../generation/writer.js";
import type { ScoreRecord } from "../scoring/similarity.js";
import type { RejectReason } from "../scoring/select.js";

export const REJECT_MESSAGES: Record<RejectReason, string> = {
  unreadable: "the image could not be read",
  no_face: "no face found",
  multiple_faces: "more than one face",
  too_soft: "too soft for a professional headshot (blurry face)",
  face_too_small: "the face is too small in the frame for a headshot",
  below_min_similarity: "does not look enough like you (below --min-similarity)",
  not_in_best: "not among the best (--keep-best)",
};

/** The same reasons in a few words, for the contact sheet's tiles (256 px wide). */
export const REJECT_SHORT: Record<RejectReason, string> = {
  unreadable: "unreadable",
  no_face: "no face found",
  multiple_faces: "more than one face",
  too_soft: "too soft (blurry face)",
  face_too_small: "face too small",
  below_min_similarity: "not enough like you",
  not_in_best: "not among the best",
};

/** The few-word form of a set-aside message (a reason of REJECT_MESSAGES, or free text). */
export function shortRejectReason(message: string): string {
  const reason = (Object.keys(REJECT_MESSAGES) as RejectReason[]).find((r) => REJECT_MESSAGES[r] === message || r === message);
  return reason ? REJECT_SHORT[reason] : message;
}

/** A sidecar's JSON object; anything else (missing, broken, not an object) counts as none. */
async function readSidecar(path: string): Promise<Record<string, unknown> | undefined> {
  const value = await readJson<unknown>(path);
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Adds `score` (and any extra fields) to an image's sidecar JSON, creating it if missing. */
export async function writeScoreToSidecar(sidecarPath: string, file: string, score: ScoreRecord, extra: Record<string, unknown> = {}): Promise<void> {
  const existing = (await readSidecar(sidecarPath)) ?? { file };
  // An earlier reason to set it aside stays unless this write keeps the image or gives a new reason.
  const { rejected: previous, ...rest } = existing;
  const keepReason = previous !== undefined && extra.kept !== true && !("rejected" in extra);
  await writeJsonAtomic(sidecarPath, { ...rest, ...(keepReason ? { rejected: previous } : {}), score, ...extra });
}

export interface RejectItem {
  /** Image path relative to outDir. */
  file: string;
  score: ScoreRecord;
  reason: RejectReason;
}

export interface MovedImage {
  /** Old and new paths, relative to outDir ("/" separators). */
  from: string;
  to: string;
  sidecar: string;
  reason: RejectReason;
}

/**
 * Moves each image and its sidecar into `<outDir>/rejected/` (same file system: a rename), writes
 * the score and reason into the sidecar, and lists them all in `rejected/scores.json`.
 */
export async function moveRejected(outDir: string, items: RejectItem[]): Promise<MovedImage[]> {
  const dir = join(outDir, REJECTED_DIR);
  await mkdir(dir, { recursive: true });
  const moved: MovedImage[] = [];
  for (const item of items) {
    const name = basename(item.file);
    const from = join(outDir, item.file);
    const to = join(dir, name);
    await rename(from, to);
    const oldSidecar = sidecarPathFor(from);
    const newSidecar = sidecarPathFor(to);
    try {
      await rename(oldSidecar, newSidecar);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    await writeScoreToSidecar(newSidecar, name, item.score, { rejected: { reason: item.reason, message: REJECT_MESSAGES[item.reason] } });
    moved.push({ from: item.file, to: `${REJECTED_DIR}/${name}`, sidecar: `${REJECTED_DIR}/${basename(newSidecar)}`, reason: item.reason });
  }
  const listPath = join(dir, "scores.json");
  const previous = ((await readSidecar(listPath))?.images as Array<{ file: string }> | undefined) ?? [];
  const byFile = new Map(previous.map((p) => [p.file, p]));
  for (const item of items) {
    byFile.set(basename(item.file), { file: basename(item.file), reason: item.reason, message: REJECT_MESSAGES[item.reason], ...item.score } as { file: string });
  }
  await writeJsonAtomic(listPath, { images: [...byFile.values()].sort((a, b) => (a.file < b.file ? -1 : 1)) });
  return moved;
}
