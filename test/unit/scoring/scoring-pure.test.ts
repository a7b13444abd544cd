/** The pure parts of identity scoring: the relative-similarity formula, verdicts, selection, checkpoints. */
import { describe, expect, it } from "vitest";
import { cosine, normalise } from "../../../src/selfies/faces.js";
import { DESCRIPTOR_MODEL, IDENTITY_THRESHOLDS } from "../../../src/scoring/calibration.js";
import { faceQuality, identityVerdict, judge, meanSimilarity, rankOf, type ImageScore } from "../../../src/scoring/similarity.js";
import { referenceFromEmbeddings, referenceFromIdentity } from "../../../src/scoring/reference.js";
import { passes, selectBest } from "../../../src/scoring/select.js";
import { checkpointFileName, chooseCheckpoint, parseSampleName } from "../../../src/scoring/checkpoints.js";
import type { Identity } from "../../../src/identity/registry.js";

/** Deterministic pseudo-random unit vectors around a base direction. */
function vectors(seed: number, count: number, dims: number, noise: number, base?: number[]): number[][] {
  let s = seed;
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const centre = base ?? Array.from({ length: dims }, rand);
  return Array.from({ length: count }, () => normalise(centre.map((v) => v + noise * rand())));
}

describe("relative similarity", () => {
  const selfies = vectors(7, 6, 64, 0.9);
  const ref = referenceFromEmbeddings("selfies test", selfies)!;

  it("equals the mean cosine to every selfie, computed from centroid, count and pairwise mean only", () => {
    for (const output of vectors(11, 5, 64, 1.2, selfies[0])) {
      const direct = selfies.reduce((sum, e) => sum + cosine(output, e), 0) / selfies.length;
      // The centroid is rounded to 6 decimals, as the registry stores it.
      expect(meanSimilarity(output, ref)).toBeCloseTo(direct, 4);
    }
  });

  it("gives a selfie-like output about 1.0 and puts the verdict bands at the calibrated thresholds", () => {
    const fresh = vectors(7, 7, 64, 0.9)[6]!; // one more draw from the same person
    const judged = judge({ faces: 1, embedding: fresh }, ref);
    expect(judged.relative).toBeGreaterThan(0.85);
    expect(judged.relative).toBeLessThan(1.15);
    const t = IDENTITY_THRESHOLDS;
    expect(identityVerdict(t.match, t.matchFloor)).toBe("match");
    expect(identityVerdict(t.match - 0.001, t.matchFloor)).toBe("doubtful");
    expect(identityVerdict(t.doubtful, t.doubtfulFloor)).toBe("doubtful");
    expect(identityVerdict(t.doubtful - 0.001, t.doubtfulFloor)).toBe("not_you");
    // The raw floor holds whatever the relative score: a loose reference cannot let a stranger in.
    expect(identityVerdict(1.2, t.matchFloor - 0.001)).toBe("doubtful");
    expect(identityVerdict(1.2, t.doubtfulFloor - 0.001)).toBe("not_you");
  });

  it("flags images without exactly one face whatever their similarity", () => {
    expect(judge({ faces: 0 }, ref).verdict).toBe("no_face");
    const two = judge({ faces: 2, embedding: selfies[0]! }, ref);
    expect(two.verdict).toBe("multiple_faces");
    expect(two.rank).toBe(-1);
  });

  it("needs two selfies for a spread, and reads the registry's summary", () => {
    expect(referenceFromEmbeddings("one", selfies.slice(0, 1))).toBeUndefined();
    const identity = {
      name: "jane",
      selfies: { verdict: "ok", usable: 6, total: 6, selfSimilarity: { mean: 0.7, min: 0.5, p10: 0.6, count: 15 }, embedding: { model: DESCRIPTOR_MODEL, dims: 64, count: 6, centroid: ref.centroid } },
    } as unknown as Identity;
    const fromRegistry = referenceFromIdentity(identity)!;
    expect(fromRegistry).toMatchObject({ label: "identity jane", count: 6, self: { mean: 0.7, p10: 0.6, min: 0.5 } });
    expect(referenceFromIdentity({ ...identity, selfies: { verdict: "ok", usable: 6, total: 6 } } as unknown as Identity)).toBeUndefined();
    // Registered with Human's faceres before issue 18: not comparable, measured again instead.
    const old = { ...identity, selfies: { ...identity.selfies, embedding: { model: "human-faceres", dims: 64, count: 6, centroid: ref.centroid } } } as unknown as Identity;
    expect(referenceFromIdentity(old)).toBeUndefined();
  });
});

describe("face quality and rank", () => {
  it.each([
    [{ sharpness: 60, brightness: 130, yaw: 2, pitch: 5 }, 1, []],
    [{ sharpness: 20, brightness: 130 }, 0.8, ["soft"]],
    [{ sharpness: 8, brightness: 40, yaw: 40 }, 0.1, ["blurry", "dark", "turned"]],
    [{ sharpness: 60, brightness: 230, pitch: -30 }, 0.6, ["bright", "tilted"]],
  ] as const)("%o -> %d %o", (input, score, issues) => {
    const q = faceQuality(input);
    expect(q.score).toBeCloseTo(score, 5);
    expect(q.issues).toEqual(issues);
  });

  it("lets quality break near-ties but never lift a likeness more than 0.1 (a stranger stays below you)", () => {
    expect(rankOf("match", 0.9, 1)).toBeGreaterThan(rankOf("match", 0.92, 0.5));
    expect(rankOf("match", 0.95, 0)).toBeGreaterThan(rankOf("match", 0.85, 1) - 0.0001);
    expect(rankOf("match", IDENTITY_THRESHOLDS.match, 0)).toBeGreaterThan(rankOf("not_you", IDENTITY_THRESHOLDS.doubtful - 0.11, 1));
    expect(rankOf("no_face", undefined, 1)).toBe(-1);
  });
});

function fake(file: string, relative: number | undefined, faces = 1, quality = 1): ImageScore {
  const verdict = faces === 0 ? "no_face" : faces > 1 ? "multiple_faces" : identityVerdict(relative ?? 0, relative ?? 0);
  return {
    file,
    path: `/x/${file}`,
    sha256: "",
    faces,
    ...(relative !== undefined ? { relative, similarity: relative } : {}),
    verdict,
    quality: { score: quality, issues: [] },
    rank: rankOf(verdict, relative, quality),
    note: "",
  };
}

describe("selectBest", () => {
  // fake() sets similarity = relative (selves' mean 1), so both thresholds read alike.
  const scores = [fake("a.png", 0.97), fake("b.png", 0.95, 1, 0.8), fake("c.png", 0.99, 1, 0.5), fake("d.png", 0.6), fake("e.png", undefined, 0), fake("f.png", 0.97, 2), fake("g.png", 0.93, 1, 0.9)];

  it("keeps the K best that pass, best first, and says why each other one was set aside", () => {
    const s = selectBest(scores, { keep: 2 });
    // c is the closest likeness but its face quality is 0.5: a sharp 0.97 ranks above it.
    expect(s.kept.map((k) => k.file)).toEqual(["a.png", "c.png"]);
    expect(s.passed).toBe(3);
    expect(Object.fromEntries(s.rejected.map((r) => [r.score.file, r.reason]))).toEqual({
      "b.png": "not_in_best",
      "d.png": "below_min_similarity",
      "g.png": "below_min_similarity",
      "e.png": "no_face",
      "f.png": "multiple_faces",
    });
  });

  it("honours --min-similarity and keeps everything that passes without --keep-best", () => {
    expect(selectBest(scores, { minSimilarity: 0.9 }).kept.map((k) => k.file)).toEqual(["a.png", "c.png", "b.png", "g.png"]);
    expect(selectBest(scores, { keep: 10, minSimilarity: 0.99 }).kept.map((k) => k.file)).toEqual(["c.png"]);
    expect(passes(fake("x", 0.96))).toBe(true);
    expect(passes(fake("x", 0.96), 0.97)).toBe(false);
    // The raw floor holds: a high relative score on a loose reference is not enough.
    expect(passes({ ...fake("x", 0.99), similarity: IDENTITY_THRESHOLDS.matchFloor - 0.01 })).toBe(false);
    expect(passes({ ...fake("x", 0.99), similarity: IDENTITY_THRESHOLDS.doubtfulFloor - 0.01 }, 0.5)).toBe(false);
    expect(passes(fake("x", 0.99, 2))).toBe(false);
    expect(() => selectBest(scores, { keep: -1 })).toThrow(RangeError);
  });
});

describe("checkpoint choice", () => {
  it("parses ai-toolkit sample names (double underscore, 9-digit step, unpadded index)", () => {
    expect(parseSampleName("1732690000123__000000250_3.jpg")).toEqual({ timeMs: 1732690000123, step: 250, index: 3 });
    expect(parseSampleName("samples/1732690000123__000001000_12.png")?.step).toBe(1000);
    expect(parseSampleName("1732690000123_000000250_3.jpg")).toBeUndefined();
    expect(parseSampleName("notes.jpg")).toBeUndefined();
    expect(checkpointFileName("jane", 500)).toBe("jane_000000500.safetensors");
  });

  it("picks the step whose samples look most like the person, counting faceless samples as 0", () => {
    const s = (step: number, i: number, relative: number | undefined, faces = 1): ImageScore => fake(`17000000000${i}__${String(step).padStart(9, "0")}_${i}.jpg`, relative, faces);
    const scores = [s(250, 0, 0.6), s(250, 1, 0.7), s(500, 0, 0.9), s(500, 1, undefined, 0), s(750, 0, 0.85), s(750, 1, 0.86), s(1000, 0, 0.84), s(1000, 1, 0.83)];
    const files = ["jane_000000750.safetensors", "jane_000001000.safetensors", "jane.safetensors"];
    const choice = chooseCheckpoint(scores, { name: "jane", files, matchThreshold: 0.8 });
    expect(choice.steps.map((x) => [x.step, x.meanRelative, x.matches])).toEqual([
      [250, 0.65, 0],
      [500, 0.45, 1],
      [750, 0.855, 2],
      [1000, 0.835, 2],
    ]);
    expect(choice.best).toMatchObject({ step: 750, checkpoint: "jane_000000750.safetensors", onDisk: true });
    // A pruned step is named but marked absent; the last step falls back to the final LoRA.
    const pruned = chooseCheckpoint(scores, { name: "jane", files: ["jane.safetensors"], matchThreshold: 0.8 });
    expect(pruned.best).toMatchObject({ step: 750, onDisk: false });
    expect(pruned.steps.at(-1)).toMatchObject({ step: 1000, checkpoint: "jane.safetensors", onDisk: true });
  });
});

