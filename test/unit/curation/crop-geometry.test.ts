/** Face-aware crop regions (pure): aspect, framing, circle safety and padding, table-driven. */
import { describe, expect, it } from "vitest";
import { CROP_SPECS, cropRegion, faceInCircle, type Box } from "../../../src/curation/crop-geometry.js";

const IMAGE = 1024;
/** Faces Human reports on 1 MP outputs (see the calibration table), and awkward placements. */
const FACES: Array<[string, Box]> = [
  ["centred close-up", [367, 300, 290, 290]],
  ["small, low on a canvas", [455, 560, 114, 114]],
  ["large", [260, 200, 520, 520]],
  ["at the left edge", [0, 300, 250, 250]],
  ["in the top-right corner", [830, 0, 194, 200]],
  ["at the bottom", [400, 860, 160, 164]],
];

describe("cropRegion", () => {
  for (const spec of CROP_SPECS) {
    for (const [label, face] of FACES) {
      it(`${spec.name}: ${label}`, () => {
        const r = cropRegion(face, IMAGE, IMAGE, spec);
        // The named aspect ratio, within a pixel of rounding.
        expect(Math.abs(r.width / r.height - spec.width / spec.height)).toBeLessThan(0.01);
        // The whole face box is inside the crop.
        expect(face[0]).toBeGreaterThanOrEqual(r.left);
        expect(face[1]).toBeGreaterThanOrEqual(r.top);
        expect(face[0] + face[2]).toBeLessThanOrEqual(r.left + r.width);
        expect(face[1] + face[3]).toBeLessThanOrEqual(r.top + r.height);
        // Padding exactly covers what lies outside the image.
        expect(r.pad.left).toBe(Math.max(0, -r.left));
        expect(r.pad.right).toBe(Math.max(0, r.left + r.width - IMAGE));
        if (spec.circle) expect(faceInCircle(face, r)).toBe(true);
      });
    }
  }

  it("centres the head in the square crops and shifts rather than pads when the framing fits", () => {
    const spec = CROP_SPECS.find((s) => s.name === "linkedin-400")!;
    const r = cropRegion([367, 300, 290, 290], IMAGE, IMAGE, spec);
    expect(r.pad).toEqual({ left: 0, top: 0, right: 0, bottom: 0 });
    expect(Math.abs(r.left + r.width / 2 - (367 + 145))).toBeLessThanOrEqual(1);
    // Face box is about 1/2.6 of the width: head and shoulders, enlarged to 400 px at most ~1:1.
    expect(r.width).toBeGreaterThan(700);
    expect(r.scale).toBeLessThan(0.6);
  });

  it("pads at the image border instead of pushing the face out of the circle", () => {
    const spec = CROP_SPECS.find((s) => s.name === "avatar-800")!;
    const r = cropRegion([830, 0, 194, 200], IMAGE, IMAGE, spec);
    expect(r.pad.right + r.pad.top).toBeGreaterThan(0);
  });

  it("knows what circle-safe means", () => {
    const region = { left: 0, top: 0, width: 100, height: 100 };
    expect(faceInCircle([35, 35, 30, 30], region)).toBe(true);
    expect(faceInCircle([0, 0, 30, 30], region)).toBe(false); // the corner is masked off
    expect(faceInCircle([5, 35, 90, 30], region)).toBe(false); // wider than the circle allows
  });
});
