import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTACT_SHEET_MAX, renderContactSheet, tileLabels, writeGalleryAndSheet } from "../../../src/curation/contact-sheet.js";
import { REJECT_MESSAGES } from "../../../src/curation/rejected.js";
import type { GalleryEntry } from "../../../src/curation/gallery.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-sheet-"));
  await sharp({ create: { width: 64, height: 80, channels: 3, background: "#888" } }).png().toFile(join(dir, "a.png"));
  await sharp({ create: { width: 90, height: 60, channels: 3, background: "#c83" } }).png().toFile(join(dir, "b.png"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("output contact sheet", () => {
  it("shows at most the best CONTACT_SHEET_MAX images, so its size does not grow with the batch", async () => {
    const entries = Array.from({ length: CONTACT_SHEET_MAX + 30 }, (_, i) => ({ file: "a.png", kept: true, title: `#${i}` }) as unknown as GalleryEntry);
    const capped = await sharp(await renderContactSheet(dir, entries)).metadata();
    const exact = await sharp(await renderContactSheet(dir, entries.slice(0, CONTACT_SHEET_MAX))).metadata();
    expect(capped.width).toBe(exact.width);
    // Only a line of text ("30 more images: open index.html") is added.
    expect((capped.height ?? 0) - (exact.height ?? 0)).toBeLessThan(60);
  });
});

describe("gallery and contact sheet from one decode per image", () => {
  it("writes the same sheet, pixel for pixel, as decoding each image apart for it", async () => {
    const entries = [
      { file: "a.png", kept: true },
      { file: "b.png", kept: false, rejectedReason: "moved here by hand" },
    ] as GalleryEntry[];
    const { contactSheetPath, galleryPath } = await writeGalleryAndSheet(dir, entries, { title: "t" });
    const apart = await sharp(await renderContactSheet(dir, entries)).raw().toBuffer();
    expect((await sharp(contactSheetPath).raw().toBuffer()).equals(apart)).toBe(true);
    expect(galleryPath).toBe(join(dir, "index.html"));
  });
});

describe("contact sheet tile labels", () => {
  it("say why a set-aside image was set aside, in a few words; kept images carry no reason", () => {
    const score = { relative: 0.52, verdict: "not_you" } as unknown as GalleryEntry["score"];
    const setAside = tileLabels({ file: "img/corporate-0003.png", kept: false, score, rejectedReason: REJECT_MESSAGES.below_min_similarity } as unknown as GalleryEntry);
    expect(setAside).toMatchObject({ score: "52% not you · set aside", why: "why: not enough like you", file: "corporate-0003.png", colour: "#c0392b" });
    expect(tileLabels({ file: "a.png", kept: false, rejectedReason: REJECT_MESSAGES.too_soft } as unknown as GalleryEntry).why).toBe("why: too soft (blurry face)");
    // A reason written by hand (e.g. found in rejected/ by `score`) is shown as it is, shortened to the tile.
    expect(tileLabels({ file: "a.png", kept: false, rejectedReason: "moved here by hand" } as unknown as GalleryEntry).why).toBe("why: moved here by hand");
    expect(tileLabels({ file: "a.png", kept: true, score: { relative: 0.97, verdict: "match" }, rejectedReason: "stale" } as unknown as GalleryEntry)).toMatchObject({ score: "97% match", why: "" });
  });
});
