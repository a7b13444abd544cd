import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTACT_SHEET_MAX, renderContactSheet } from "../../../src/curation/contact-sheet.js";
import type { GalleryEntry } from "../../../src/curation/gallery.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-sheet-"));
  await sharp({ create: { width: 64, height: 80, channels: 3, background: "#888" } }).png().toFile(join(dir, "a.png"));
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
