import { describe, expect, it } from "vitest";
import type { ImageAnalysis } from "../../../src/selfies/analyze.js";
import { imageReasons, THRESHOLDS, verdictOf } from "../../../src/selfies/rules.js";

/** A clean 1200x1600 close-up: one frontal, sharp, well-exposed face of 500 px. */
function analysis(patch: Partial<ImageAnalysis> = {}, face: Partial<ImageAnalysis["faces"][number]> = {}): ImageAnalysis {
  return {
    format: "jpeg",
    width: 1200,
    height: 1600,
    faces: [{ box: [350, 300, 500, 500], score: 0.99, yaw: 2, pitch: 5, roll: 1, ...face }],
    embedding: [1, 0, 0],
    sharpness: 80,
    faceLuma: { mean: 130, dark: 0, bright: 0.01 },
    frameLuma: { mean: 120, dark: 0, bright: 0 },
    dhash: "0123456789abcdef",
    ...patch,
  };
}

const codes = (a: ImageAnalysis): string[] => imageReasons(a).map((r) => `${r.severity}:${r.code}`);

describe("imageReasons", () => {
  it("finds nothing wrong with a clean close-up", () => {
    expect(imageReasons(analysis())).toEqual([]);
    expect(verdictOf(imageReasons(analysis()))).toBe("ok");
  });

  it.each<[string, ImageAnalysis, string[]]>([
    ["short side under 512", analysis({ width: 500, height: 700, faces: [{ box: [100, 100, 300, 300], score: 1, yaw: 0, pitch: 0, roll: 0 }] }), ["reject:too_small"]],
    ["short side under 1024", analysis({ width: 900, height: 1200 }), ["warn:low_resolution"]],
    ["no face", analysis({ faces: [] }), ["reject:no_face"]],
    ["two faces", analysis({ faces: [analysis().faces[0]!, { box: [0, 0, 200, 200], score: 0.9, yaw: 0, pitch: 0, roll: 0 }] }), ["reject:multiple_faces"]],
    ["face 90 px wide", analysis({}, { box: [10, 10, 90, 90] }), ["reject:face_too_small"]],
    ["face 150 px wide", analysis({}, { box: [10, 10, 150, 150] }), ["warn:face_small"]],
    ["face 400 px in a 40 MP frame (0.4%)", analysis({ width: 8000, height: 5000 }, { box: [10, 10, 400, 400] }), ["reject:face_too_small"]],
    ["blurry", analysis({ sharpness: 10 }), ["reject:blurry"]],
    ["soft", analysis({ sharpness: 20 }), ["warn:soft"]],
    ["too dark", analysis({ faceLuma: { mean: 30, dark: 0.2, bright: 0 } }), ["reject:too_dark"]],
    ["underexposed", analysis({ faceLuma: { mean: 60, dark: 0, bright: 0 } }), ["warn:underexposed"]],
    ["blown out", analysis({ faceLuma: { mean: 240, dark: 0, bright: 0.6 } }), ["reject:too_bright"]],
    ["overexposed", analysis({ faceLuma: { mean: 210, dark: 0, bright: 0.1 } }), ["warn:overexposed"]],
    ["head turned 40°", analysis({}, { yaw: -40 }), ["warn:strong_angle"]],
    ["profile, 70°", analysis({}, { yaw: 70 }), ["reject:extreme_angle"]],
    ["looking down 30°", analysis({}, { pitch: 30 }), ["warn:strong_angle"]],
    ["looking up 50°", analysis({}, { pitch: -50 }), ["reject:extreme_angle"]],
  ])("%s", (_name, input, expected) => {
    expect(codes(input)).toEqual(expected);
  });

  it("gives every reason a message and a fix", () => {
    const all = imageReasons(analysis({ width: 900, height: 1000, sharpness: 5, faceLuma: { mean: 20, dark: 0.9, bright: 0 } }, { yaw: 80 }));
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const r of all) {
      expect(r.message.length).toBeGreaterThan(10);
      expect(r.fix.length).toBeGreaterThan(10);
    }
    expect(verdictOf(all)).toBe("reject");
  });

  it.each<[string, ImageAnalysis, RegExp, RegExp]>([
    ["too many blown highlights at a normal brightness", analysis({ faceLuma: { mean: 166, dark: 0, bright: 0.3 } }), /30% of it blown to white, over 25%/, /brightness/],
    ["a bright mean", analysis({ faceLuma: { mean: 210, dark: 0, bright: 0.1 } }), /brightness 210\/255, over 200/, /white/],
    ["too much crushed to black", analysis({ faceLuma: { mean: 100, dark: 0.3, bright: 0 } }), /30% of it crushed to black/, /brightness/],
  ])("names the exposure measure that fired: %s", (_name, input, shown, notShown) => {
    const [reason] = imageReasons(input);
    expect(reason?.message).toMatch(shown);
    expect(reason?.message).not.toMatch(notShown);
  });

  it("keeps the documented thresholds ordered", () => {
    expect(THRESHOLDS.sharpnessReject).toBeLessThan(THRESHOLDS.sharpnessWarn);
    expect(THRESHOLDS.faceWidthReject).toBeLessThan(THRESHOLDS.faceWidthWarn);
    expect(THRESHOLDS.yawWarn).toBeLessThan(THRESHOLDS.yawReject);
  });
});
