/**
 * Per-image analysis cache in HEADSHOT_HOME, keyed by the file's sha256, so the face models run
 * once per photo: re-running `check`, then `train`, costs only the hashing. The key also names the
 * model and analysis settings, so upgrading either recomputes instead of reusing stale numbers.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic-write.js";
import { DETECT_SIZE, BLUR_SIZE, type ImageAnalysis } from "./analyze.js";
import { FACE_MODEL_ID } from "./faces.js";

export const ANALYSIS_KEY = `v1/${FACE_MODEL_ID}/detect${DETECT_SIZE}-pow2/blur${BLUR_SIZE}`;

export function cachePath(home: string, sha256: string): string {
  return join(home, "cache", "selfies", sha256.slice(0, 2), `${sha256}.json`);
}

export async function readCachedAnalysis(home: string, sha256: string): Promise<ImageAnalysis | undefined> {
  try {
    const entry = JSON.parse(await readFile(cachePath(home, sha256), "utf8")) as { key?: string; analysis?: ImageAnalysis };
    return entry.key === ANALYSIS_KEY && entry.analysis ? entry.analysis : undefined;
  } catch {
    return undefined; // missing or damaged: recompute
  }
}

export async function writeCachedAnalysis(home: string, sha256: string, analysis: ImageAnalysis): Promise<void> {
  await writeJsonAtomic(cachePath(home, sha256), { key: ANALYSIS_KEY, analysis });
}
