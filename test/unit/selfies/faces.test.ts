import { beforeAll, describe, expect, it } from "vitest";
import sharp from "sharp";
import { availableParallelism } from "node:os";
import { cosine, dedupeFaces, detectFaces, loadFaceModel, normalise, warmFaceWorkers, type FaceResult } from "../../../src/selfies/faces.js";
import { ASTRONAUT, HOPPER } from "../../support/selfies/build.js";
import { IDENTITY_THRESHOLDS } from "../../../src/scoring/calibration.js";

describe("face model (Human on WASM, offline)", () => {
  let collins: FaceResult[];
  beforeAll(async () => {
    await loadFaceModel();
    collins = await detectFaces(ASTRONAUT);
  });

  it("loads once per process and grows to one worker per core on demand", async () => {
    await loadFaceModel();
    expect(await warmFaceWorkers(1)).toBe(1);
    expect(await warmFaceWorkers(2)).toBe(Math.min(2, availableParallelism()));
  });

  it("finds one frontal face with a unit-length 128-d dlib ResNet descriptor", () => {
    expect(collins).toHaveLength(1);
    const face = collins[0]!;
    // Measured on the fixture: box ~[152, 49, 145, 145], yaw ~0, pitch ~8 degrees.
    expect(face.box[2]).toBeGreaterThan(120);
    expect(face.box[2]).toBeLessThan(180);
    expect(Math.abs(face.yaw)).toBeLessThan(10);
    expect(face.embedding).toHaveLength(128);
    expect(Math.hypot(...face.embedding)).toBeCloseTo(1, 5);
  });

  it("scores the same person high and another person low", async () => {
    const flipped = await detectFaces(await sharp(ASTRONAUT).flop().png().toBuffer());
    const hopper = await detectFaces(HOPPER);
    const same = cosine(collins[0]!.embedding, flipped[0]!.embedding);
    const other = cosine(collins[0]!.embedding, hopper[0]!.embedding);
    // dlib descriptors of different people still read ~0.84 (test/bench/LIKENESS.md): judge the
    // gap and the calibrated floor, not faceres-era numbers.
    expect(same).toBeGreaterThan(0.95);
    expect(other).toBeLessThan(IDENTITY_THRESHOLDS.matchFloor);
    expect(same - other).toBeGreaterThan(0.05);
  });

  it("accepts raw RGB pixels and keeps boxes in their scale", async () => {
    const { data, info } = await sharp(ASTRONAUT).removeAlpha().resize(256).raw().toBuffer({ resolveWithObject: true });
    const faces = await detectFaces({ data, width: info.width, height: info.height });
    expect(faces).toHaveLength(1);
    expect(faces[0]!.box[2]).toBeLessThan(100);
  });
});

describe("vector helpers", () => {
  it("normalise and cosine", () => {
    expect(normalise([3, 4])).toEqual([0.6, 0.8]);
    expect(cosine([1, 0], [0, 1])).toBe(0);
    expect(cosine([1, 2], [2, 4])).toBeCloseTo(1);
    expect(cosine([0, 0], [1, 1])).toBe(0);
  });

  it("merges a face found twice with shifted boxes", () => {
    const f = (box: [number, number, number, number], score: number): FaceResult => ({ box, score, yaw: 0, pitch: 0, roll: 0, embedding: [] });
    const kept = dedupeFaces([f([971, 740, 106, 106], 0.9), f([1050, 759, 84, 84], 0.99), f([100, 100, 90, 90], 0.95)]);
    expect(kept.map((k) => k.score)).toEqual([0.99, 0.95]);
  });
});
