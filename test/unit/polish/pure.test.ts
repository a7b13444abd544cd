/** The pure core of polish: region geometry, the feathered mask, colour matching, the blend and the keep rule. */
import { describe, expect, it } from "vitest";
import { blendPatch, changedBounds, channelStats, cropRegion, matchColours } from "../../../src/polish/blend.js";
import { faceRegion, maskAlpha, maskShape, ringIndices, type Box } from "../../../src/polish/geometry.js";
import { estimatePolish, facePrompt, faceSeed, keepPolished } from "../../../src/polish/plan.js";

function noiseImage(width: number, height: number, seed = 1): { data: Uint8Array; width: number; height: number } {
  const data = new Uint8Array(width * height * 3);
  let s = seed;
  for (let k = 0; k < data.length; k++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[k] = (s >>> 16) & 0xff;
  }
  return { data, width, height };
}

describe("faceRegion", () => {
  it.each([
    { name: "centred face", box: [400, 300, 200, 200] as Box, size: [1024, 1024], want: { left: 280, top: 180, side: 440 } },
    { name: "face at the left edge shifts right", box: [0, 300, 200, 200] as Box, size: [1024, 1024], want: { left: 0, top: 180, side: 440 } },
    { name: "face at the bottom-right shifts in", box: [900, 900, 120, 120] as Box, size: [1024, 1024], want: { left: 760, top: 760, side: 264 } },
    { name: "larger than the image: shrinks to fit", box: [100, 100, 800, 800] as Box, size: [1024, 768], want: { left: 116, top: 0, side: 768 } },
  ])("$name", ({ box, size, want }) => {
    expect(faceRegion(box, size[0]!, size[1]!)).toEqual(want);
  });
});

describe("maskAlpha", () => {
  it("is 1 at the face centre, 0 at the region's edges and corners, and fades in between", () => {
    const region = { left: 280, top: 180, side: 440 };
    const alpha = maskAlpha(maskShape([400, 300, 200, 200], region), region.side);
    const at = (x: number, y: number) => alpha[y * region.side + x]!;
    expect(at(220, 210)).toBe(1);
    for (const [x, y] of [[0, 0], [439, 0], [0, 439], [439, 439], [0, 220], [439, 220], [220, 439]]) expect(at(x!, y!)).toBe(0);
    expect(ringIndices(alpha).length).toBeGreaterThan(1000);
  });
});

describe("blendPatch", () => {
  it("changes only pixels under the mask, and leaves the input untouched", () => {
    const image = noiseImage(300, 200);
    const copy = image.data.slice();
    const region = faceRegion([120, 60, 60, 70], 300, 200);
    const alpha = maskAlpha(maskShape([120, 60, 60, 70], region), region.side);
    const patch = new Uint8Array(region.side * region.side * 3).fill(255);
    const out = blendPatch(image, region, patch, alpha);
    expect(image.data).toEqual(copy);
    const bounds = changedBounds(region, alpha)!;
    let outside = 0;
    let inside = 0;
    for (let y = 0; y < 200; y++) {
      for (let x = 0; x < 300; x++) {
        const p = (y * 300 + x) * 3;
        const a = alpha[(y - region.top) * region.side + (x - region.left)] ?? 0;
        const inRegion = x >= region.left && x < region.left + region.side && y >= region.top && y < region.top + region.side;
        const differs = out.data[p] !== image.data[p] || out.data[p + 1] !== image.data[p + 1] || out.data[p + 2] !== image.data[p + 2];
        if (!inRegion || a === 0) outside += differs ? 1 : 0;
        else if (a === 1) inside += out.data[p] === 255 ? 1 : 0;
        if (differs) expect(x >= bounds.left && x < bounds.right && y >= bounds.top && y < bounds.bottom).toBe(true);
      }
    }
    expect(outside).toBe(0);
    expect(inside).toBeGreaterThan(1000);
  });
});

describe("matchColours", () => {
  it("moves the patch's ring mean to the original's, within the clamped gain", () => {
    const region = { left: 0, top: 0, side: 100 };
    const alpha = maskAlpha(maskShape([30, 30, 40, 40], region), 100);
    const original = noiseImage(100, 100, 3).data;
    const patch = original.map((v) => Math.min(255, v * 0.5 + 90));
    const { data, gain } = matchColours(patch, original, alpha);
    const ring = ringIndices(alpha);
    const o = channelStats(original, ring);
    const m = channelStats(data, ring);
    for (let c = 0; c < 3; c++) expect(Math.abs(m.mean[c]! - o.mean[c]!)).toBeLessThan(3);
    for (const g of gain) expect(g).toBeLessThanOrEqual(1.1);
    expect(cropRegion({ data: original, width: 100, height: 100 }, region)).toEqual(original);
  });
});

describe("plan", () => {
  it("keeps the polished version unless likeness dropped by more than the margin", () => {
    expect(keepPolished({ relative: 0.95, faces: 1 }, { relative: 0.93, faces: 1 }, 0.03).keep).toBe(true);
    expect(keepPolished({ relative: 0.95, faces: 1 }, { relative: 0.9, faces: 1 }, 0.03)).toMatchObject({ keep: false, reason: expect.stringMatching(/dropped from 95% to 90%/) as unknown });
    expect(keepPolished({ relative: 0.95, faces: 1 }, { faces: 2 }, 0.03).keep).toBe(false);
  });

  it("seeds are stable per image content and face; the prompt leads with the trigger and class", () => {
    expect(faceSeed(0, "ab", 0)).toBe(faceSeed(0, "ab", 0));
    expect(faceSeed(0, "ab", 1)).not.toBe(faceSeed(0, "ab", 0));
    expect(facePrompt({ trigger: "ohwx", classWord: "man", skin: { texture: "fine" }, lighting: { setup: "rembrandt" } })).toMatch(/^close-up photo of the face of ohwx man, .*fine natural skin texture.*rembrandt lighting/);
  });

  it("estimates faces x price plus one upscale per image", () => {
    expect(estimatePolish({ images: 3, faces: 4, perFaceUsd: 0.032, secondsPerFace: 3, upscale: 2, perUpscaleUsd: 0.002 })).toMatchObject({ costUsd: 0.134, upscales: 3 });
  });
});
