/**
 * Which generated images to keep (pure): `gen --keep-best K --min-similarity R` and `--until K`.
 * Kept images are those with exactly one face, above the quality floor (not blurry, face not too
 * small: calibration.ts KEPT_QUALITY), whose relative similarity reaches the minimum, best rank first, at most K of them; every other image gets the reason it was set aside.
 */
import { IDENTITY_THRESHOLDS, KEPT_QUALITY } from "./calibration.js";
import type { ImageScore } from "./similarity.js";

export type RejectReason = "unreadable" | "no_face" | "multiple_faces" | "too_soft" | "face_too_small" | "below_min_similarity" | "not_in_best";

export interface SelectOptions {
  /** Keep at most this many (undefined: every image that passes). */
  keep?: number;
  /** Minimum relative similarity (default: the calibrated `match` threshold). */
  minSimilarity?: number;
}

export interface Selection<T extends ImageScore = ImageScore> {
  /** Best first. */
  kept: T[];
  /** Best first, each with why it was not kept. */
  rejected: Array<{ score: T; reason: RejectReason }>;
  /** How many passed the face and similarity checks (may exceed kept.length when K is smaller). */
  passed: number;
}

/** Does this image count towards `--until K`? */
export function passes(score: ImageScore, minSimilarity: number = IDENTITY_THRESHOLDS.match): boolean {
  return reasonFor(score, minSimilarity) === undefined;
}

/** Below the quality floor for a kept headshot: which rule, or undefined. */
export function qualityFloor(score: Pick<ImageScore, "quality" | "face" | "width" | "height">): "too_soft" | "face_too_small" | undefined {
  // A small face also reads as soft (few pixels): name the cause, the size, first.
  const faceWidth = score.face?.box[2];
  const side = Math.min(score.width ?? Infinity, score.height ?? Infinity);
  if (faceWidth !== undefined && (faceWidth < KEPT_QUALITY.minFacePixels || (Number.isFinite(side) && faceWidth < KEPT_QUALITY.minFaceShare * side))) return "face_too_small";
  if (score.quality.issues.includes("blurry")) return "too_soft";
  return undefined;
}

/**
 * The raw-similarity floor that goes with a relative threshold: `match`'s by default; a lower
 * --min-similarity lowers it to `doubtful`'s, never below (calibration.ts: that floor is what keeps
 * strangers out).
 */
export function rawFloor(minSimilarity: number): number {
  return minSimilarity >= IDENTITY_THRESHOLDS.match ? IDENTITY_THRESHOLDS.matchFloor : IDENTITY_THRESHOLDS.doubtfulFloor;
}

function reasonFor(score: ImageScore, minSimilarity: number): RejectReason | undefined {
  if (score.verdict === "unreadable") return "unreadable";
  if (score.faces === 0 || score.relative === undefined) return "no_face";
  if (score.faces > 1) return "multiple_faces";
  const floor = qualityFloor(score);
  if (floor) return floor;
  if (score.relative < minSimilarity || (score.similarity ?? 0) < rawFloor(minSimilarity)) return "below_min_similarity";
  return undefined;
}

/** Best first: rank, then file name (deterministic). */
export function byRank<T extends ImageScore>(a: T, b: T): number {
  return b.rank - a.rank || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

export function selectBest<T extends ImageScore>(scores: T[], options: SelectOptions = {}): Selection<T> {
  const minSimilarity = options.minSimilarity ?? IDENTITY_THRESHOLDS.match;
  if (options.keep !== undefined && (!Number.isInteger(options.keep) || options.keep < 0)) throw new RangeError(`keep must be a whole number >= 0, got ${options.keep}`);
  const sorted = [...scores].sort(byRank);
  const kept: T[] = [];
  const rejected: Selection<T>["rejected"] = [];
  let passed = 0;
  for (const score of sorted) {
    const reason = reasonFor(score, minSimilarity);
    if (reason) {
      rejected.push({ score, reason });
      continue;
    }
    passed++;
    if (options.keep === undefined || kept.length < options.keep) kept.push(score);
    else rejected.push({ score, reason: "not_in_best" });
  }
  return { kept, rejected, passed };
}
