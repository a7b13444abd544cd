/**
 * Writes `<out>/index.html` and its thumbnails (`<out>/thumbs/`, 400 px JPEGs, so the page stays
 * light with a hundred 1 MP images). Everything is a relative link inside `<out>`.
 */
import { join } from "node:path";
import pLimit from "p-limit";
import { writeFileAtomic } from "../util/atomic-write.js";
import { renderGallery, type GalleryItem, type GalleryPage } from "./gallery-html.js";

export const GALLERY_FILE = "index.html";
export const THUMBS_DIR = "thumbs";
const THUMB_SIZE = 400;

export type GalleryEntry = Omit<GalleryItem, "thumb">;

/** Thumbnail path (relative) for an image path (relative): unique per image, flat folder. */
export function thumbPathFor(file: string): string {
  return `${THUMBS_DIR}/${file.replace(/\.[^./]+$/, "").split("/").join("__")}.jpg`;
}

async function writeThumb(outDir: string, file: string, thumb: string): Promise<void> {
  const { default: sharp } = await import("sharp");
  const data = await sharp(join(outDir, file)).rotate().resize(THUMB_SIZE, THUMB_SIZE, { fit: "cover", position: "attention" }).jpeg({ quality: 82 }).toBuffer();
  await writeFileAtomic(join(outDir, thumb), data);
}

/** Writes the thumbnails and the page; returns the page's path. */
export async function writeGallery(outDir: string, entries: GalleryEntry[], page: Omit<GalleryPage, "generatedAt"> & { generatedAt?: string }): Promise<string> {
  const limit = pLimit(2);
  const items: GalleryItem[] = await Promise.all(
    entries.map((entry) =>
      limit(async () => {
        const thumb = thumbPathFor(entry.file);
        await writeThumb(outDir, entry.file, thumb);
        return { ...entry, thumb };
      }),
    ),
  );
  const html = renderGallery(items, { ...page, generatedAt: page.generatedAt ?? new Date().toISOString() });
  const path = join(outDir, GALLERY_FILE);
  await writeFileAtomic(path, html);
  return path;
}
