import { describe, expect, it } from "vitest";
import { cropRegion, faceInOutput, pickWide, room, OUTPUT_SIZE } from "../../../src/selfies/crop-geometry.js";
import { captionFor, validateClassWord, validateTrigger } from "../../../src/selfies/prepare.js";
import { UsageError } from "../../../src/errors.js";

describe("cropRegion", () => {
  it("frames head and shoulders around a face with the face above centre", () => {
    const r = cropRegion([1500, 800, 400, 400], 3024, 4032, 2.6);
    expect(r.size).toBe(1040);
    const face = faceInOutput([1500, 800, 400, 400], r);
    expect(face[0] + face[2] / 2).toBeCloseTo(OUTPUT_SIZE / 2, -1);
    expect((face[1] + face[3] / 2) / OUTPUT_SIZE).toBeCloseTo(0.4, 1);
  });

  it("shifts rather than shrinks at the frame edge and never leaves the frame", () => {
    const r = cropRegion([0, 0, 300, 300], 1200, 1600, 2.6);
    expect(r).toEqual({ left: 0, top: 0, size: 780 });
    const big = cropRegion([100, 100, 800, 800], 1000, 1100, 2.6);
    expect(big.size).toBe(1000);
    expect(big.left).toBe(0);
    expect(big.top + big.size).toBeLessThanOrEqual(1100);
  });
});

describe("pickWide", () => {
  it("gives about a quarter of the set a wide crop, most room first, only when it fits", () => {
    const items = Array.from({ length: 8 }, (_, i) => ({ face: [0, 0, 100 + i * 100, 100 + i * 100] as [number, number, number, number], width: 1200, height: 1200 }));
    expect([...pickWide(items)]).toEqual([0, 1]);
    expect(room(items[0]!.face, 1200, 1200)).toBe(12);
    const tight = items.map((i) => ({ ...i, face: [0, 0, 600, 600] as [number, number, number, number] }));
    expect(pickWide(tight).size).toBe(0);
    expect(pickWide(items.slice(0, 3)).size).toBe(0);
  });
});

describe("captions", () => {
  it("always start with the trigger and the class", () => {
    expect(captionFor("ohwx", "woman", "closeup")).toBe("ohwx woman, close-up portrait photo");
    expect(captionFor("zk9", "man", "wide", "smiling")).toBe("zk9 man, upper body photo, smiling");
  });

  it("refuses triggers that are not one word and unknown classes", () => {
    expect(() => validateTrigger("two words")).toThrow(UsageError);
    expect(() => validateTrigger("x")).toThrow(/one word/);
    expect(() => validateTrigger("ohwx")).not.toThrow();
    expect(() => validateClassWord("dog")).toThrow(/man, woman, person/);
    expect(validateClassWord("person")).toBe("person");
  });
});
