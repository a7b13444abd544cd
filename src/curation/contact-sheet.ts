/**
 * The outputs' contact sheet: one PNG with every image, best first, its likeness and verdict under
 * it and the set-aside ones dimmed, for picking "the one" at a glance (none of the surveyed headshot apps makes one; cheap with sharp composite).
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import { percent } from "../util/percent.js";
import { escapeHtml, galleryOrder } from "./gallery-html.js";
import { framedImage, type GalleryEntry } from "./gallery.js";
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

export async function renderContactSheet(outDir: string, entries: GalleryEntry[]): Promise<Buffer> {
  const { default: sharp } = await import("sharp");
  const sorted = [...entries].sort((a, b) => galleryOrder({ ...a, thumb: "" }, { ...b, thumb: "" }));
  const items = sorted.slice(0, CONTACT_SHEET_MAX);
  const more = sorted.length - items.length;
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
    let tile = (await framedImage(join(outDir, item.file), item.score)).resize(TILE, TILE, { fit: "contain", background: "#f4f4f2" }).removeAlpha();
    // Set-aside images are washed out, as in the gallery.
    if (!item.kept) tile = tile.modulate({ saturation: 0.3 }).linear(0.45, 140);
    layers.push({ input: await tile.png().toBuffer(), left: x, top: y });
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
export async function writeContactSheet(outDir: string, entries: GalleryEntry[], target: string = join(outDir, CONTACT_SHEET_FILE)): Promise<string> {
  await writeFileAtomic(target, await renderContactSheet(outDir, entries));
  return target;
}
