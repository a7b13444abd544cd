/**
 * Set-level rules (pure): exact and near duplicates, identity outliers, and the verdict on the
 * whole folder with plain-language advice.
 *
 * Duplicates: near duplicate = dHash <= 6 bits and descriptor cosine >= 0.95 (the same shot, maybe
 * re-lit), or dHash <= 2 (same framing whatever the face model says, e.g. a blurred copy); the
 * sharper one is kept. A re-lit copy of one shot teaches the model nothing new, while a different
 * framing of one photo is a useful training image, so the cosine alone is not used.
 *
 * Identity outliers (issue 18), on the dlib ResNet descriptor (face-api, see faces.ts), measured on
 * real photos (test/bench/LIKENESS.md): one person's photos pair at cosine 0.91-0.99 (low-resolution
 * TV stills included), different people at median 0.84, p99 0.91, max 0.94. A photo whose median
 * cosine to the others is below 0.86 is a clear outlier (reject: almost surely someone else), and so
 * is one below 0.90 when the other photos agree with each other 0.06 more (their median); otherwise
 * below 0.90 is a weak one (warning: look at it; one person's odd photo can land there). No genuine
 * pair on the real set scored under 0.906, so no genuine photo there reaches either line.
 */
import { median, percentile, hamming } from "./quality.js";
import { cosine } from "./faces.js";
import type { Reason, SelfSimilarity, SetVerdict, Verdict } from "./types.js";

export const SET_THRESHOLDS = {
  dupHashBits: 6,
  dupHashCosine: 0.95,
  dupSameFramingBits: 2,
  /** Median cosine to the other faces below this: warning. */
  identityWarnCosine: 0.9,
  /** Below this: reject. */
  identityRejectCosine: 0.86,
  /** Under the warning line and this far below the rest's own median: reject too. */
  identityRejectGap: 0.06,
  minUsable: 6,
  recommendedMin: 10,
  recommendedMax: 20,
} as const;

export interface SetEntry {
  file: string;
  sha256: string;
  /** Rejected on its own already (unreadable, no face, several faces...). */
  rejected: boolean;
  sharpness?: number;
  embedding?: number[];
  dhash?: string;
  closeup?: boolean;
  yaw?: number;
  pitch?: number;
}

/** Extra reasons per file index from comparing images with each other. */
export function setReasons(entries: SetEntry[]): Map<number, Reason[]> {
  const t = SET_THRESHOLDS;
  const out = new Map<number, Reason[]>();
  const add = (i: number, r: Reason): void => void out.set(i, [...(out.get(i) ?? []), r]);
  const dropped = new Set<number>();

  // Exact copies: keep the first by file name.
  const firstBySha = new Map<string, number>();
  entries.forEach((e, i) => {
    if (!e.sha256) return;
    const first = firstBySha.get(e.sha256);
    if (first === undefined) return void firstBySha.set(e.sha256, i);
    dropped.add(i);
    add(i, {
      code: "duplicate",
      severity: "reject",
      message: `Exact copy of ${entries[first]!.file}.`,
      fix: "Delete one of the two copies.",
    });
  });

  // Near duplicates among images that could be used: keep the sharper (then the first by name).
  const candidates = entries.map((_e, i) => i).filter((i) => !dropped.has(i) && !entries[i]!.rejected && entries[i]!.dhash);
  for (const i of candidates) {
    for (const j of candidates) {
      if (j <= i || dropped.has(i) || dropped.has(j)) continue;
      const a = entries[i]!;
      const b = entries[j]!;
      const bits = hamming(a.dhash!, b.dhash!);
      const cos = a.embedding && b.embedding ? cosine(a.embedding, b.embedding) : 0;
      const near = (bits <= t.dupHashBits && cos >= t.dupHashCosine) || bits <= t.dupSameFramingBits;
      if (!near) continue;
      const [keep, drop] = (b.sharpness ?? 0) > (a.sharpness ?? 0) ? [j, i] : [i, j];
      dropped.add(drop);
      add(drop, {
        code: "near_duplicate",
        severity: "reject",
        message: `Nearly the same shot as ${entries[keep]!.file} (kept, it is sharper).`,
        fix: "Remove it, or replace it with a photo from another day, place or outfit.",
      });
    }
  }

  // Identity outliers: compare each usable face with the others.
  const faces = entries.map((_e, i) => i).filter((i) => !dropped.has(i) && !entries[i]!.rejected && entries[i]!.embedding?.length);
  if (faces.length >= 3) {
    for (const i of faces) {
      const sims = faces.filter((j) => j !== i).map((j) => cosine(entries[i]!.embedding!, entries[j]!.embedding!));
      const m = median(sims);
      // A clear outlier: far below what any two photos of one person scored, or below the warning
      // line while the rest of the set agrees much more closely with itself (a look-alike
      // stranger among near-identical photos: Hopper among Collins variants reads 0.89 vs 0.97).
      const rest = faces.filter((j) => j !== i);
      const restSims: number[] = [];
      for (const a of rest) for (const b of rest) if (a < b) restSims.push(cosine(entries[a]!.embedding!, entries[b]!.embedding!));
      const clear = m < t.identityRejectCosine || (m < t.identityWarnCosine && restSims.length > 0 && m < median(restSims) - t.identityRejectGap);
      if (clear) {
        add(i, {
          code: "identity_outlier",
          severity: "reject",
          message: `This face does not look like the rest of the set (similarity ${m.toFixed(2)}; photos of one person score ${t.identityWarnCosine}+, different people about 0.84): a different person?`,
          fix: "Remove photos of anyone else; the set must show one person only.",
        });
      } else if (m < t.identityWarnCosine) {
        add(i, {
          code: "identity_outlier",
          severity: "warn",
          message: `This face looks less like the rest of the set than usual (similarity ${m.toFixed(2)}; photos of one person mostly score ${t.identityWarnCosine}+).`,
          fix: "Look at it: keep it if it is you (an unusual angle, light or age), remove it if it is someone else.",
        });
      }
    }
  }
  return out;
}

/** Pairwise cosine among the usable faces. */
export function selfSimilarity(embeddings: number[][]): SelfSimilarity | undefined {
  const sims: number[] = [];
  for (let i = 0; i < embeddings.length; i++) for (let j = i + 1; j < embeddings.length; j++) sims.push(cosine(embeddings[i]!, embeddings[j]!));
  if (!sims.length) return undefined;
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  return {
    mean: round(sims.reduce((s, v) => s + v, 0) / sims.length),
    min: round(Math.min(...sims)),
    p10: round(percentile(sims, 10)),
    count: sims.length,
  };
}

export interface UsableFacts {
  closeup: boolean;
  yaw: number;
  pitch: number;
  embedding?: number[];
}

/** The verdict on the whole folder and what to add or remove. */
export function setVerdict(total: number, usable: UsableFacts[], rejectedCount: number): SetVerdict {
  const t = SET_THRESHOLDS;
  const advice: string[] = [];
  const n = usable.length;
  const closeups = usable.filter((u) => u.closeup).length;
  const wide = n - closeups;
  let verdict: Verdict = "ok";
  if (n < t.minUsable) {
    verdict = "reject";
    advice.push(`Only ${n} usable photo${n === 1 ? "" : "s"}; at least ${t.minUsable} are needed and ${t.recommendedMin}-${t.recommendedMax} work best. Add ${t.recommendedMin - n} or more.`);
  } else if (n < t.recommendedMin) {
    verdict = "warn";
    advice.push(`${n} usable photos: enough to train, but ${t.recommendedMin}-${t.recommendedMax} give a better likeness. Add ${t.recommendedMin - n} more.`);
  } else if (n > t.recommendedMax) {
    verdict = "warn";
    advice.push(`${n} usable photos: more than ${t.recommendedMax} rarely helps and makes training slower; keep the best ${t.recommendedMax}.`);
  }
  if (rejectedCount > 0) advice.push(`${rejectedCount} photo${rejectedCount === 1 ? " is" : "s are"} left out (see the reasons above); fix or remove ${rejectedCount === 1 ? "it" : "them"}.`);
  if (n >= 3) {
    if (wide === 0) {
      if (verdict === "ok") verdict = "warn";
      advice.push("Every photo is a close-up: add 2-4 chest-up or waist-up shots so clothes and background are not learned as part of you.");
    } else if (closeups < Math.ceil(n / 2)) {
      if (verdict === "ok") verdict = "warn";
      advice.push(`Only ${closeups} of ${n} are close-ups: most photos should show the face large and sharp. Add close-ups.`);
    }
    const yaws = usable.map((u) => u.yaw);
    const spread = Math.max(...yaws) - Math.min(...yaws);
    if (spread < 10) {
      if (verdict === "ok") verdict = "warn";
      advice.push("All photos face the camera the same way: add a few with the head turned a little left and right (three-quarter views).");
    }
  }
  return { verdict, usable: n, total, advice, closeups, wide };
}
