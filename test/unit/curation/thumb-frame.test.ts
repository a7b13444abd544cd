import { describe, expect, it } from "vitest";
import { headBox, MIN_SHARE, thumbFrame } from "../../../src/curation/thumb-frame.js";

const inside = (outer: { left: number; top: number; width: number; height: number }, box: readonly number[]) =>
  box[0]! >= outer.left && box[1]! >= outer.top && box[0]! + box[2]! <= outer.left + outer.width && box[1]! + box[3]! <= outer.top + outer.height;

describe("thumbnail framing (pure)", () => {
  it("keeps the image's aspect ratio and the whole head of a head-and-shoulders portrait", () => {
    const face: [number, number, number, number] = [300, 320, 310, 310];
    const r = thumbFrame(912, 1152, { faces: 1, box: face });
    expect(r.width / r.height).toBeCloseTo(912 / 1152, 2);
    const head = headBox(face).map((v) => Math.round(v));
    expect(inside(r, [Math.max(0, head[0]!), Math.max(0, head[1]!), head[2]!, head[3]!])).toBe(true);
  });

  it("zooms in on a small face at most 1/MIN_SHARE, the head inside", () => {
    const face: [number, number, number, number] = [700, 200, 60, 60];
    const r = thumbFrame(1000, 1250, { faces: 1, box: face });
    expect(r.width).toBeGreaterThanOrEqual(Math.floor(1000 * MIN_SHARE));
    expect(inside(r, headBox(face))).toBe(true);
    expect(r.left + r.width).toBeLessThanOrEqual(1000);
  });

  it.each([
    ["no face", { faces: 0 }],
    ["two faces", { faces: 2, box: [10, 10, 100, 100] as const }],
    ["a face without a box", { faces: 1 }],
  ])("shows the whole image for %s", (_name, face) => {
    expect(thumbFrame(800, 1000, face)).toEqual({ left: 0, top: 0, width: 800, height: 1000 });
  });
});
