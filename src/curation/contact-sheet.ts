/**
 * The outputs' contact sheet: one PNG with every image, best first, its likeness and verdict under
 * it and the set-aside ones dimmed, for picking "the one" at a glance (none of the surveyed headshot apps makes one; cheap with sharp composite).
 */
import { basename, join } from "node:path";
import type { Sharp } from "sharp";
import { writeFileAtomic } from "../util/atomic-write.js";
import { percent } from "../util/percent.js";
import { escapeHtml, galleryOrder, type GalleryPage } from "./gallery-html.js";
import { framedImage, writeGalleryPage, writeThumbs, type GalleryEntry } from "./gallery.js";
import { shortRejectReason } from "./rejected.js";

export const CONTACT_SHEET_FILE = "contact-sheet.png";
const TILE = 256;
/** Three lines under each tile: likeness and verdict, why it was set aside, the file name. */
const LABEL = 56;
const GAP = 10;
const COLUMNS = 6;
/**
 * The sheet shows the best images only: one PNG of hundreds of tiles is neither useful to a person
 * nor cheap (its canvas grows with the batch, and gen must stay under 200 MB whatever N is). The
 * gallery page lists everything.
 */
export const CONTACT_SHEET_MAX = 48;
const COLOURS: Record<string, string> = { match: "#23883f", doubtful: "#b07800" };

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The words under a tile: likeness and verdict, why it was set aside (if it was), the file name. */
export function tileLabels(item: GalleryEntry): { score: string; why: string; file: string; colour: string } {
  const score = item.score;
  const pct = score?.relative !== undefined ? `${percent(score.relative)} ` : "";
  const label = score ? `${pct}${score.verdict.replace("_", " ")}${item.kept ? "" : " · set aside"}` : item.kept ? "" : "set aside";
  const why = !item.kept && item.rejectedReason ? `why: ${shortRejectReason(item.rejectedReason)}` : "";
  const colour = score ? (COLOURS[score.verdict] ?? "#c0392b") : "#999";
  return { score: shorten(label, 36), why: shorten(why, 38), file: shorten(item.file.split("/").pop() ?? item.file, 38), colour };
}

/** The images the sheet shows, best first (at most CONTACT_SHEET_MAX), and how many it leaves out. */
export function sheetSelection(entries: GalleryEntry[]): { items: GalleryEntry[]; more: number } {
  const sorted = [...entries].sort((a, b) => galleryOrder({ ...a, thumb: "" }, { ...b, thumb: "" }));
  const items = sorted.slice(0, CONTACT_SHEET_MAX);
  return { items, more: sorted.length - items.length };
}

/** One tile as PNG: the framed image (gallery.ts framedImage) letterboxed in the tile, set-aside ones washed out. */
export async function renderTile(framed: Sharp, item: GalleryEntry): Promise<Buffer> {
  let tile = framed.resize(TILE, TILE, { fit: "contain", background: "#f4f4f2" }).removeAlpha();
  // Set-aside images are washed out, as in the gallery.
  if (!item.kept) tile = tile.modulate({ saturation: 0.3 }).linear(0.45, 140);
  return tile.png().toBuffer();
}

/**
 * The sheet as PNG. `tiles`: tiles already cut (by writeGalleryAndSheet, from the decode that made
 * the thumbnail); the others are decoded here.
 */
export async function renderContactSheet(outDir: string, entries: GalleryEntry[], tiles: ReadonlyMap<GalleryEntry, Buffer> = new Map()): Promise<Buffer> {
  const { default: sharp } = await import("sharp");
  const { items, more } = sheetSelection(entries);
  const columns = Math.max(1, Math.min(COLUMNS, items.length));
  const rows = Math.max(1, Math.ceil(items.length / columns));
  const width = columns * (TILE + GAP) + GAP;
  const height = rows * (TILE + LABEL + GAP) + GAP + (more > 0 ? LABEL : 0);
  const layers: Array<{ input: Buffer; left: number; top: number }> = [];
  const svg: string[] = [];
  for (const [i, item] of items.entries()) {
    const x = GAP + (i % columns) * (TILE + GAP);
    const y = GAP + Math.floor(i / columns) * (TILE + LABEL + GAP);
    // Framed on the face with the whole head, aspect kept (thumb-frame.ts), letterboxed in the tile.
    const tile = tiles.get(item) ?? (await renderTile(await framedImage(join(outDir, item.file), item.score), item));
    layers.push({ input: tile, left: x, top: y });
    const { score: line1, why, file, colour } = tileLabels(item);
    svg.push(
      `<rect x="${x - 1.5}" y="${y - 1.5}" width="${TILE + 3}" height="${TILE + 3}" fill="none" stroke="${colour}" stroke-width="3"/>`,
      `<text x="${x}" y="${y + TILE + 16}" font-family="DejaVu Sans, sans-serif" font-size="13" font-weight="bold" fill="${item.score ? colour : "#555"}">${escapeHtml(line1)}</text>`,
      `<text x="${x}" y="${y + TILE + 33}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#c0392b">${escapeHtml(why)}</text>`,
      `<text x="${x}" y="${y + TILE + 49}" font-family="DejaVu Sans, sans-serif" font-size="12" fill="#333">${escapeHtml(file)}</text>`,
    );
  }
  if (more > 0) {
    svg.push(
      `<text x="${GAP}" y="${height - GAP - 8}" font-family="DejaVu Sans, sans-serif" font-size="15" fill="#333">${more} more image${more === 1 ? "" : "s"}: open index.html for the whole batch</text>`,
    );
  }
  layers.push({ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join("")}</svg>`), left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: "#f4f4f2" } }).composite(layers).png({ compressionLevel: 9 }).toBuffer();
}

/** Writes `<outDir>/contact-sheet.png` (or `target`) and returns its path. */
export async function writeContactSheet(outDir: string, entries: GalleryEntry[], target: string = join(outDir, CONTACT_SHEET_FILE), tiles?: ReadonlyMap<GalleryEntry, Buffer>): Promise<string> {
  await writeFileAtomic(target, await renderContactSheet(outDir, entries, tiles));
  return target;
}

/**
 * The gallery (thumbnails + index.html) and the contact sheet from one decode per image: the
 * sheet's tiles are cut from the frame each thumbnail is made from. Decoding every image once
 * for the sheet and once more for the gallery doubled the cost of curating a batch.
 */
export async function writeGalleryAndSheet(outDir: string, entries: GalleryEntry[], page: Omit<GalleryPage, "generatedAt" | "contactSheet"> & { generatedAt?: string }): Promise<{ galleryPath: string; contactSheetPath: string }> {
  const onSheet = new Set(sheetSelection(entries).items);
  const tiles = new Map<GalleryEntry, Buffer>();
  const thumbs = await writeThumbs(outDir, entries, async (entry, framed) => {
    if (onSheet.has(entry)) tiles.set(entry, await renderTile(framed.clone(), entry));
  });
  const contactSheetPath = await writeContactSheet(outDir, entries, undefined, tiles);
  const galleryPath = await writeGalleryPage(outDir, thumbs, { ...page, contactSheet: basename(contactSheetPath) });
  return { galleryPath, contactSheetPath };
}
