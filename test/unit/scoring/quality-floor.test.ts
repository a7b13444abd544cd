import { describe, expect, it } from "vitest";
import { KEPT_QUALITY } from "../../../src/scoring/calibration.js";
import { faceQuality, type ImageScore } from "../../../src/scoring/similarity.js";
import { passes, qualityFloor, selectBest } from "../../../src/scoring/select.js";

function score(file: string, options: { relative?: number; sharpness?: number; faceWidth?: number; size?: number } = {}): ImageScore {
  const size = options.size ?? 1000;
  const faceWidth = options.faceWidth ?? 350;
  const relative = options.relative ?? 1;
  return {
    file,
    path: file,
    sha256: file,
    width: size,
    height: Math.round(size * 1.25),
    faces: 1,
    face: { box: [100, 100, faceWidth, faceWidth], score: 0.9, yaw: 0, pitch: 0, roll: 0 },
    // Above the raw-similarity floor (calibration.ts matchFloor), so only the quality floor decides.
    similarity: Math.min(1, relative * 0.97),
    relative,
    verdict: "match",
    quality: faceQuality({ sharpness: options.sharpness ?? 500, brightness: 120, yaw: 0, pitch: 0 }),
    rank: relative,
    note: "",
  };
}

describe("quality floor for kept images", () => {
  it.each([
    ["sharp, head-and-shoulders", {}, undefined],
    ["blurry face", { sharpness: 8 }, "too_soft"],
    ["soft but not blurry", { sharpness: 20 }, undefined],
    ["face under the share of the short side", { faceWidth: KEPT_QUALITY.minFaceShare * 1000 - 1 }, "face_too_small"],
    ["face at the share", { faceWidth: KEPT_QUALITY.minFaceShare * 1000 }, undefined],
    ["face under the pixel minimum on a small image", { faceWidth: KEPT_QUALITY.minFacePixels - 1, size: 400 }, "face_too_small"],
  ] as const)("%s", (_name, options, expected) => {
    expect(qualityFloor(score("a.png", options))).toBe(expected);
    expect(passes(score("a.png", options))).toBe(expected === undefined);
  });

  it("sets a look-alike below the floor aside with its reason, and keeps the sharp ones", () => {
    const selection = selectBest([score("sharp.png", { relative: 0.96 }), score("blurry.png", { relative: 1.0, sharpness: 5 }), score("tiny.png", { relative: 0.99, faceWidth: 60 })], { keep: 3 });
    expect(selection.kept.map((s) => s.file)).toEqual(["sharp.png"]);
    expect(selection.rejected.map((r) => [r.score.file, r.reason])).toEqual([
      ["blurry.png", "too_soft"],
      ["tiny.png", "face_too_small"],
    ]);
  });
});
