/**
 * Scores image files against an identity: one decode and one face-model pass per image through
 * the selfie checker's analyser (src/selfies/analyze.ts: shrink-on-load to 1024 px, Human's detector and face-api's
 * dlib descriptor,
 * blur and exposure on the face), cached by content hash in HEADSHOT_HOME like `check`'s, so
 * re-scoring a folder or a kept image costs only the hashing.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { relative as relativePath, sep } from "node:path";
import pLimit from "p-limit";
import { InterruptedError } from "../errors.js";
import { analyseImage, type ImageAnalysis } from "../selfies/analyze.js";
import { readCachedAnalysis, writeCachedAnalysis } from "../selfies/check-cache.js";
import { DecodeFailure } from "../selfies/decode.js";
import { warmFaceWorkers } from "../selfies/faces.js";
import { judge, type IdentityReference, type ImageScore } from "./similarity.js";

export interface ScoreOptions {
  /** HEADSHOT_HOME: enables the analysis cache shared with `check`. Omit to always recompute. */
  home?: string;
  /** File names in the scores are relative to this folder (default: the paths as given). */
  root?: string;
  /** Images analysed at once (default: two per face-model worker, so decoding overlaps the model). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, file: string) => void;
}

async function analyse(bytes: Buffer, sha256: string, home: string | undefined): Promise<ImageAnalysis> {
  const cached = home ? await readCachedAnalysis(home, sha256) : undefined;
  if (cached) return cached;
  const analysis = await analyseImage(bytes);
  if (home) await writeCachedAnalysis(home, sha256, analysis);
  return analysis;
}

/** Scores one file; unreadable files get verdict "unreadable" rather than failing the batch. */
export async function scoreImage(path: string, reference: IdentityReference, options: ScoreOptions = {}): Promise<ImageScore> {
  const file = options.root ? relativePath(options.root, path).split(sep).join("/") : path;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    return unscored(file, path, "", `The file cannot be read (${error instanceof Error ? error.message : String(error)}).`);
  }
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  let analysis: ImageAnalysis;
  try {
    analysis = await analyse(bytes, sha256, options.home);
  } catch (error) {
    if (error instanceof DecodeFailure) return unscored(file, path, sha256, error.message);
    throw error;
  }
  const main = analysis.faces[0];
  const judged = judge(
    {
      faces: analysis.faces.length,
      ...(analysis.embedding ? { embedding: analysis.embedding } : {}),
      ...(analysis.sharpness !== undefined ? { sharpness: analysis.sharpness } : {}),
      ...(analysis.faceLuma ? { brightness: Math.round(analysis.faceLuma.mean) } : {}),
      ...(main ? { yaw: main.yaw, pitch: main.pitch } : {}),
    },
    reference,
  );
  return {
    file,
    path,
    sha256,
    width: analysis.width,
    height: analysis.height,
    faces: analysis.faces.length,
    ...(main ? { face: { box: main.box, score: main.score, yaw: main.yaw, pitch: main.pitch, roll: main.roll } } : {}),
    ...judged,
  };
}

function unscored(file: string, path: string, sha256: string, note: string): ImageScore {
  return { file, path, sha256, faces: 0, verdict: "unreadable", quality: { score: 0, issues: [] }, rank: -1, note };
}

/** Scores every file; results in the given order. */
export async function scoreImages(files: string[], reference: IdentityReference, options: ScoreOptions = {}): Promise<ImageScore[]> {
  // As `check` does: one model worker per core (at most 2) when there is enough work to pay for
  // a second model load.
  const workers = files.length >= 4 ? await warmFaceWorkers(2) : 1;
  const limit = pLimit(options.concurrency ?? workers * 2);
  let done = 0;
  return Promise.all(
    files.map((path) =>
      limit(async () => {
        if (options.signal?.aborted) throw new InterruptedError();
        const score = await scoreImage(path, reference, options);
        options.onProgress?.(++done, files.length, score.file);
        return score;
      }),
    ),
  );
}
