/**
 * Identity scoring (pure): how much a generated face looks like the person, relative to how much
 * the person's own selfies look like each other, plus a face-quality reading and a verdict.
 *
 * Why relative as well as raw: the selfies' spread is the person's own yardstick, and a raw floor
 * keeps a stranger out when that spread is loose (thresholds and measurements in calibration.ts). With n unit selfie embeddings e_i and
 * their normalised centroid c, the mean cosine of an output x to the selfies is
 *   mean_i cos(x, e_i) = cos(x, c) * |sum e_i| / n,  |sum e_i|^2 / n^2 = (1 + (n-1) * m) / n
 * where m is the selfies' mean pairwise cosine. So the registry's centroid, count and pairwise
 * mean are enough; no per-selfie vectors need to be stored. relative = that mean / m.
 */
import { cosine } from "../selfies/faces.js";
import { IDENTITY_THRESHOLDS, QUALITY_LIMITS } from "./calibration.js";

/** The person to compare with: built from a registered identity or a folder of selfies. */
export interface IdentityReference {
  /** Where it came from, for messages ("identity jane", "selfies ./me"). */
  label: string;
  /** Unit-normalised mean of the selfies' face descriptors. */
  centroid: number[];
  /** How many selfies the centroid averages (2 or more). */
  count: number;
  /** Pairwise cosine among the selfies: the person's own spread. */
  self: { mean: number; p10: number; min: number };
}

export type ScoreVerdict = "match" | "doubtful" | "not_you" | "no_face" | "multiple_faces" | "unreadable";

export interface FaceQuality {
  /** 0..1: 1 = sharp, well exposed, facing the camera. */
  score: number;
  sharpness?: number;
  brightness?: number;
  yaw?: number;
  pitch?: number;
  /** Stable codes: blurry, soft, dark, bright, turned, tilted. */
  issues: string[];
}

export interface ImageScore {
  /** Path relative to the scored folder (or as given), "/" separators. */
  file: string;
  path: string;
  sha256: string;
  width?: number;
  height?: number;
  faces: number;
  /** Largest face, [x, y, w, h] in image pixels. */
  face?: { box: [number, number, number, number]; score: number; yaw: number; pitch: number; roll: number };
  /** Mean descriptor cosine to the selfies (model-specific; see calibration.ts). */
  similarity?: number;
  /** similarity / selfies' own mean pairwise cosine: ~1 = looks like you (see calibration.ts). */
  relative?: number;
  verdict: ScoreVerdict;
  quality: FaceQuality;
  /** Ranking key: relative, nudged by quality (see rankOf). */
  rank: number;
  /** Why the verdict, in words. */
  note: string;
}

const round = (v: number, digits = 3): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Mean cosine of `embedding` to the selfies behind `ref` (see the formula above). */
export function meanSimilarity(embedding: ArrayLike<number>, ref: IdentityReference): number {
  const n = Math.max(1, ref.count);
  const spread = Math.sqrt(Math.max(0, (1 + (n - 1) * ref.self.mean) / n));
  return cosine(embedding, ref.centroid) * spread;
}

export function relativeSimilarity(similarity: number, ref: IdentityReference): number {
  return similarity / Math.max(1e-6, ref.self.mean);
}

/** Verdict from both the relative score and the raw similarity (see calibration.ts for why both). */
export function identityVerdict(relative: number, similarity: number): "match" | "doubtful" | "not_you" {
  const t = IDENTITY_THRESHOLDS;
  if (relative >= t.match && similarity >= t.matchFloor) return "match";
  if (relative >= t.doubtful && similarity >= t.doubtfulFloor) return "doubtful";
  return "not_you";
}

export interface QualityInput {
  sharpness?: number;
  brightness?: number;
  yaw?: number;
  pitch?: number;
}

/** 0..1 quality with the reasons it is below 1 (limits in calibration.ts). */
export function faceQuality(input: QualityInput): FaceQuality {
  const q = QUALITY_LIMITS;
  const issues: string[] = [];
  let score = 1;
  const flag = (code: string, penalty: number): void => {
    issues.push(code);
    score -= penalty;
  };
  const { sharpness, brightness, yaw, pitch } = input;
  if (sharpness !== undefined && sharpness < q.sharpnessPoor) flag("blurry", 0.5);
  else if (sharpness !== undefined && sharpness < q.sharpnessGood) flag("soft", 0.2);
  if (brightness !== undefined && brightness < q.lumaLow) flag("dark", 0.25);
  else if (brightness !== undefined && brightness > q.lumaHigh) flag("bright", 0.25);
  if (yaw !== undefined && Math.abs(yaw) > q.yawMax) flag("turned", 0.15);
  if (pitch !== undefined && Math.abs(pitch) > q.pitchMax) flag("tilted", 0.15);
  const out: FaceQuality = { score: round(Math.max(0, score), 2), issues };
  if (input.sharpness !== undefined) out.sharpness = input.sharpness;
  if (input.brightness !== undefined) out.brightness = input.brightness;
  if (input.yaw !== undefined) out.yaw = input.yaw;
  if (input.pitch !== undefined) out.pitch = input.pitch;
  return out;
}

/**
 * The ranking key: identity first, quality as a tie-breaker worth at most 0.1 (a sharp shot beats a
 * blurry one of the same likeness; no amount of sharpness makes a stranger rank above you).
 * Images without exactly one face rank below every scored face.
 */
export function rankOf(verdict: ScoreVerdict, relative: number | undefined, quality: number): number {
  if (verdict === "no_face" || verdict === "multiple_faces" || verdict === "unreadable" || relative === undefined) return -1;
  return round(relative + 0.1 * quality, 4);
}

export interface FaceMeasures {
  faces: number;
  embedding?: number[];
  sharpness?: number;
  brightness?: number;
  yaw?: number;
  pitch?: number;
}

/** Similarity, verdict, quality and rank from one image's measurements. */
export function judge(measures: FaceMeasures, ref: IdentityReference): Pick<ImageScore, "similarity" | "relative" | "verdict" | "quality" | "rank" | "note"> {
  // No face, no face quality: 0 rather than a perfect score for nothing measured.
  const quality = measures.faces === 0 ? { score: 0, issues: [] } : faceQuality(measures);
  let similarity: number | undefined;
  let relative: number | undefined;
  if (measures.embedding?.length) {
    similarity = round(meanSimilarity(measures.embedding, ref));
    relative = round(relativeSimilarity(similarity, ref));
  }
  let verdict: ScoreVerdict;
  let note: string;
  if (measures.faces === 0) {
    verdict = "no_face";
    note = "No face found.";
  } else if (measures.faces > 1) {
    verdict = "multiple_faces";
    note = `${measures.faces} faces found; a headshot shows one.`;
  } else if (relative === undefined) {
    verdict = "no_face";
    note = "A face was found but could not be described.";
  } else {
    verdict = identityVerdict(relative, similarity ?? 0);
    const pct = Math.round(relative * 100);
    note =
      verdict === "match"
        ? `Looks like you (${pct}% of your selfies' own likeness).`
        : verdict === "doubtful"
          ? `Uncertain likeness (${pct}%): look at it yourself before using it.`
          : `Does not look like you (${pct}%).`;
  }
  const out: Pick<ImageScore, "similarity" | "relative" | "verdict" | "quality" | "rank" | "note"> = {
    verdict,
    quality,
    rank: rankOf(verdict, relative, quality.score),
    note,
  };
  if (similarity !== undefined) out.similarity = similarity;
  if (relative !== undefined) out.relative = relative;
  return out;
}

/** What goes into the manifest entry and the sidecar as `score` (fields may be added, never renamed). */
export interface ScoreRecord {
  faces: number;
  similarity?: number;
  relative?: number;
  verdict: ScoreVerdict;
  quality: FaceQuality;
  rank: number;
  note: string;
  face?: ImageScore["face"];
  /** Who it was compared with ("identity jane") and with which face model. */
  reference: string;
  model: string;
  scoredAt: string;
}

export function toScoreRecord(score: ImageScore, reference: IdentityReference, model: string, now: Date = new Date()): ScoreRecord {
  const record: ScoreRecord = {
    faces: score.faces,
    verdict: score.verdict,
    quality: score.quality,
    rank: score.rank,
    note: score.note,
    reference: reference.label,
    model,
    scoredAt: now.toISOString(),
  };
  if (score.similarity !== undefined) record.similarity = score.similarity;
  if (score.relative !== undefined) record.relative = score.relative;
  if (score.face) record.face = score.face;
  return record;
}
