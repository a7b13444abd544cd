/**
 * A contact sheet PNG: every input as a thumbnail with its face box, file name and verdict, so a
 * person sees at a glance what was kept and why the rest was not. Drawn with sharp composite and
 * SVG overlays; the same inputs give the same bytes.
 */
import type { ImageReport } from "./types.js";
import { openImage } from "./decode.js";
import { readFile } from "node:fs/promises";

const TILE = 240;
const LABEL = 44;
const GAP = 8;
const COLUMNS = 5;
const COLOURS = { ok: "#2e9d4a", warn: "#e0a100", reject: "#d23c3c" } as const;

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c] ?? c);
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

async function thumbnail(image: ImageReport): Promise<{ input: Buffer; left: number; top: number; scale: number } | undefined> {
  if (!image.width || !image.height) return undefined;
  try {
    const opened = await openImage(await readFile(image.path));
    const scale = Math.min(TILE / opened.width, TILE / opened.height);
    const { data, info } = await opened
      .pipeline()
      .resize(TILE, TILE, { fit: "inside" })
      .toColourspace("srgb")
      .removeAlpha()
      .png()
      .toBuffer({ resolveWithObject: true });
    return { input: data, left: Math.floor((TILE - info.width) / 2), top: Math.floor((TILE - info.height) / 2), scale };
  } catch {
    return undefined; // shown as an empty tile with its reason
  }
}

export async function renderContactSheet(images: ImageReport[]): Promise<Buffer> {
  const { default: sharp } = await import("sharp");
  const columns = Math.max(1, Math.min(COLUMNS, images.length));
  const rows = Math.max(1, Math.ceil(images.length / columns));
  const width = columns * (TILE + GAP) + GAP;
  const height = rows * (TILE + LABEL + GAP) + GAP;
  const layers: Array<{ input: Buffer; left: number; top: number }> = [];
  const thumbs = await Promise.all(images.map((image) => thumbnail(image)));
  const svg: string[] = [];
  images.forEach((image, i) => {
    const x = GAP + (i % columns) * (TILE + GAP);
    const y = GAP + Math.floor(i / columns) * (TILE + LABEL + GAP);
    const colour = COLOURS[image.verdict];
    const thumb = thumbs[i];
    if (thumb) {
      layers.push({ input: thumb.input, left: x + thumb.left, top: y + thumb.top });
      if (image.face) {
        const [fx, fy, fw, fh] = image.face.box;
        svg.push(
          `<rect x="${x + thumb.left + fx * thumb.scale}" y="${y + thumb.top + fy * thumb.scale}" width="${fw * thumb.scale}" height="${fh * thumb.scale}" fill="none" stroke="${colour}" stroke-width="2"/>`,
        );
      }
    } else {
      svg.push(`<text x="${x + TILE / 2}" y="${y + TILE / 2}" text-anchor="middle" font-family="DejaVu Sans, sans-serif" font-size="14" fill="#666">cannot be shown</text>`);
    }
    svg.push(`<rect x="${x - 1}" y="${y - 1}" width="${TILE + 2}" height="${TILE + 2}" fill="none" stroke="${colour}" stroke-width="3"/>`);
    // Label with the reason behind the verdict: a reject's first reject reason, not a warning.
    const first = image.reasons.find((r) => r.severity === image.verdict) ?? image.reasons[0];
    svg.push(
      `<text x="${x}" y="${y + TILE + 17}" font-family="DejaVu Sans, sans-serif" font-size="13" fill="#222">${escapeXml(shorten(image.file, 30))}</text>`,
      `<text x="${x}" y="${y + TILE + 35}" font-family="DejaVu Sans, sans-serif" font-size="12" font-weight="bold" fill="${colour}">${escapeXml(shorten(`${image.verdict.toUpperCase()}${first ? `: ${first.code}` : ""}`, 34))}</text>`,
    );
  });
  const overlay = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${svg.join("")}</svg>`);
  layers.push({ input: overlay, left: 0, top: 0 });
  return sharp({ create: { width, height, channels: 3, background: "#f4f4f4" } })
    .composite(layers)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** Writes the contact sheet of a check report (used by `check` without --fix). */
export async function writeContactSheet(report: { images: ImageReport[] }, target: string): Promise<void> {
  const { writeFileAtomic } = await import("../util/atomic-write.js");
  await writeFileAtomic(target, await renderContactSheet(report.images));
}
