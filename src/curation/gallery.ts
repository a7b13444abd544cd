/**
 * Writes `<out>/index.html` and its thumbnails (`<out>/thumbs/`, at most 400 px JPEGs framed on
 * the face with the whole head and the image's aspect ratio, so the page stays light with a
 * hundred 1 MP images). Everything is a relative link inside `<out>`.
 */
import { join } from "node:path";
import pLimit from "p-limit";
import type { Sharp } from "sharp";
import { writeFileAtomic } from "../util/atomic-write.js";
import { renderGallery, type GalleryItem, type GalleryPage } from "./gallery-html.js";
import { thumbFrame } from "./thumb-frame.js";

export const GALLERY_FILE = "index.html";
export const THUMBS_DIR = "thumbs";
const THUMB_SIZE = 400;

export type GalleryEntry = Omit<GalleryItem, "thumb">;

/** Thumbnail path (relative) for an image path (relative): unique per image, flat folder. */
export function thumbPathFor(file: string): string {
  return `${THUMBS_DIR}/${file.replace(/\.[^./]+$/, "").split("/").join("__")}.jpg`;
}

/** The image framed on its face with the whole head and its own aspect ratio (thumb-frame.ts). */
export async function framedImage(path: string, score: GalleryEntry["score"]): Promise<Sharp> {
  const { default: sharp } = await import("sharp");
  // Decoded once to raw 8-bit pixels: passing the upright image on as an encoded buffer made
  // libvips re-encode every full-size PNG (about 150 ms per 1 MP image) for each thumbnail and tile.
  const upright = await sharp(path).rotate().raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true });
  const { width, height, channels } = upright.info;
  const region = thumbFrame(width, height, { faces: score?.faces ?? 0, box: score?.face?.box });
  return sharp(upright.data, { raw: { width, height, channels } }).extract(region);
}

async function writeThumb(outDir: string, image: Sharp, thumb: string): Promise<void> {
  const data = await image.resize(THUMB_SIZE, THUMB_SIZE, { fit: "inside" }).jpeg({ quality: 82 }).toBuffer();
  await writeFileAtomic(join(outDir, thumb), data);
}

/**
 * Writes every entry's thumbnail (two images at a time). `alsoWith` gets each decoded frame before
 * the thumbnail is cut from it (clone() it to change it): the contact sheet's tiles.
 */
export async function writeThumbs(outDir: string, entries: GalleryEntry[], alsoWith?: (entry: GalleryEntry, framed: Sharp) => Promise<void>): Promise<GalleryItem[]> {
  const limit = pLimit(2);
  return Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const thumb = thumbPathFor(entry.file);
        const framed = await framedImage(join(outDir, entry.file), entry.score);
        await alsoWith?.(entry, framed);
        await writeThumb(outDir, framed, thumb);
        return { ...entry, thumb };
      }),
    ),
  );
}

/** Writes index.html for thumbnails already written; returns its path. */
export async function writeGalleryPage(outDir: string, items: GalleryItem[], page: Omit<GalleryPage, "generatedAt"> & { generatedAt?: string }): Promise<string> {
  const html = renderGallery(items, { ...page, generatedAt: page.generatedAt ?? new Date().toISOString() });
  const path = join(outDir, GALLERY_FILE);
  await writeFileAtomic(path, html);
  return path;
}
