import { describe, expect, it } from "vitest";
import { backdropFor, FACE_SHARE, isMonochrome, placeCrop, PLANT_CYCLE, plantFor, selfieIndexFor, shotOf } from "../../../src/generation/rehearsal/framing.js";

const image = (index: number, seedBase = 100) => ({ index, seed: seedBase + index - 1 });

describe("rehearsal framing (pure)", () => {
  it("plants the same share of failures in every batch, reproducibly from the seed", () => {
    for (const base of [0, 7, 12345]) {
      const plants = Array.from({ length: PLANT_CYCLE.length }, (_, i) => plantFor(image(i + 1, base)));
      expect([...plants].sort()).toEqual([...PLANT_CYCLE].sort());
      expect(plants).toEqual(Array.from({ length: PLANT_CYCLE.length }, (_, i) => plantFor(image(i + 1, base))));
    }
    const starts = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((base) => plantFor(image(1, base))));
    expect(starts.size).toBeGreaterThan(1);
  });

  it("uses each selfie crop in turn", () => {
    const picks = Array.from({ length: 8 }, (_, i) => selfieIndexFor(image(i + 1), 8));
    expect(new Set(picks).size).toBe(8);
  });

  it("puts the face at the share of the width the shot asks for, centred", () => {
    const crop = { width: 1024, height: 1024, faceBox: [412, 300, 200, 240] as [number, number, number, number] };
    const place = placeCrop(crop, 912, 1152, FACE_SHARE["head-and-shoulders"]!);
    const [x, , w] = place.face;
    expect(w / 912).toBeCloseTo(FACE_SHARE["head-and-shoulders"]!, 2);
    expect(Math.abs(x + w / 2 - 456)).toBeLessThanOrEqual(1);
  });

  it.each([
    ["4:5 head-and-shoulders", 912, 1152, "head-and-shoulders"],
    ["square close-up", 1024, 1024, "close-up"],
  ] as const)("leaves room for the whole head between the label bands: %s", (_name, width, height, shot) => {
    const crop = { width: 1024, height: 1024, faceBox: [412, 300, 200, 220] as [number, number, number, number] };
    const place = placeCrop(crop, width, height, FACE_SHARE[shot]!);
    const [, y, , h] = place.face;
    expect(y - 0.7 * h).toBeGreaterThanOrEqual(0.12 * height);
    expect(y + 1.45 * h).toBeLessThanOrEqual(0.88 * height);
  });

  it("reads the shot, the backdrop colour and black-and-white from the composed prompt", () => {
    expect(shotOf({ promptJson: { camera: { distance: "waist-up" } } })).toBe("waist-up");
    expect(shotOf({ promptJson: {} })).toBe("head-and-shoulders");
    const black = backdropFor({ seed: 1, promptJson: { background: "seamless black backdrop" } });
    const white = backdropFor({ seed: 1, promptJson: { background: "bright white high-key backdrop" } });
    expect(black.r + black.g + black.b).toBeLessThan(120);
    expect(white.r + white.g + white.b).toBeGreaterThan(650);
    expect(isMonochrome({ prompt: "a portrait", promptJson: { avoid: ["colour"] } })).toBe(true);
    expect(isMonochrome({ prompt: "a portrait", promptJson: { avoid: ["hats"] } })).toBe(false);
  });
});
