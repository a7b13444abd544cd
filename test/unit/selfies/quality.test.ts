import { describe, expect, it } from "vitest";
import { dhash, hamming, laplacianVariance, lumaStats, median, normalisedSharpness, percentile } from "../../../src/selfies/quality.js";

function image(size: number, pixel: (x: number, y: number) => number): Uint8Array {
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = pixel(x, y);
  return out;
}

describe("sharpness", () => {
  const checker = image(64, (x, y) => ((x >> 2) + (y >> 2)) % 2 ? 200 : 50);
  const ramp = image(64, (x) => x * 3);

  it("is zero on flat and linear images and high on hard edges", () => {
    expect(laplacianVariance(image(32, () => 128), 32, 32)).toBe(0);
    expect(laplacianVariance(ramp, 64, 64)).toBe(0);
    expect(laplacianVariance(checker, 64, 64)).toBeGreaterThan(1000);
  });

  it("does not depend on exposure once normalised", () => {
    const dim = checker.map((v) => Math.round(v * 0.3));
    const raw = laplacianVariance(dim, 64, 64) / laplacianVariance(checker, 64, 64);
    expect(raw).toBeLessThan(0.15);
    expect(normalisedSharpness(dim, 64, 64)).toBeCloseTo(normalisedSharpness(checker, 64, 64), -1);
  });
});

describe("lumaStats", () => {
  it("counts crushed and blown pixels", () => {
    const s = lumaStats(Uint8Array.from([0, 0, 255, 128]));
    expect(s.mean).toBeCloseTo(95.75);
    expect(s.dark).toBe(0.5);
    expect(s.bright).toBe(0.25);
  });
});

describe("dhash", () => {
  it("gives 16 hex digits and measures bit distance", () => {
    const left = dhash(Uint8Array.from({ length: 72 }, (_, i) => 255 - (i % 9) * 20));
    const right = dhash(Uint8Array.from({ length: 72 }, (_, i) => (i % 9) * 20));
    expect(left).toBe("ffffffffffffffff");
    expect(right).toBe("0000000000000000");
    expect(hamming(left, right)).toBe(64);
    expect(hamming("00000000000000f1", "0000000000000000")).toBe(5);
  });
});

describe("median and percentile", () => {
  it("match hand-computed values", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBe(0);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 10)).toBe(10);
    expect(percentile([5, 1, 3], 50)).toBe(3);
  });
});
