/**
 * The static gallery page (pure): one self-contained `index.html` with inline CSS, relative links
 * and no script, font or request beyond the images next to it, so it opens from disk with no server
 * and no network. Best first; rejected images dimmed; prompt and seed on hover.
 */
import type { ScoreRecord } from "../scoring/similarity.js";
import { percent } from "../util/percent.js";

export interface GalleryItem {
  /** Image path relative to the gallery folder ("/" separators). */
  file: string;
  /** Thumbnail path relative to the gallery folder. */
  thumb: string;
  kept: boolean;
  /** Why it was set aside (shown on rejected images). */
  rejectedReason?: string;
  score?: ScoreRecord;
  prompt?: string;
  seed?: number;
  /** Ready-to-upload crops, relative paths. */
  crops?: Array<{ name: string; file: string }>;
}

export interface GalleryPage {
  title: string;
  /** "identity jane": who the scores compare with. */
  reference?: string;
  thresholds?: { match: number; doubtful: number };
  contactSheet?: string;
  generatedAt: string;
  /** What the images are when they are not generated photos (test placeholders, rehearsal previews). */
  notice?: string | undefined;
}

/** What the gallery says about test-backend images (issue 15). */
export const REHEARSAL_NOTICE =
  "PREVIEWS from --backend test: each one is drawn from your own selfies, not generated. A share of them plants another person's face, a soft image or a small face on purpose, so you see how such images are set aside.";
export const PLACEHOLDER_NOTICE = "TEST PLACEHOLDERS from --backend test: labelled cards, not photos of anyone.";

/** The quality floor for kept images, in words (src/scoring/calibration.ts KEPT_QUALITY). */
export const QUALITY_FLOOR_TEXT = "Kept photos also pass a quality floor: a sharp face (not blurry) at least 10% of the frame's shorter side and 80 px wide.";

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

/** A relative path as a URL: each segment percent-encoded (spaces, #, ? in file names). */
export function relativeUrl(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

/** Kept before rejected, then by rank (best first), then by file name. */
export function galleryOrder(a: GalleryItem, b: GalleryItem): number {
  if (a.kept !== b.kept) return a.kept ? -1 : 1;
  const ra = a.score?.rank ?? -2;
  const rb = b.score?.rank ?? -2;
  return rb - ra || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

const VERDICT_LABEL: Record<string, string> = {
  match: "looks like you",
  doubtful: "doubtful",
  not_you: "not you",
  no_face: "no face",
  multiple_faces: "several faces",
  unreadable: "unreadable",
};

function badge(score: ScoreRecord | undefined): string {
  if (!score) return "";
  const pct = score.relative !== undefined ? ` ${percent(score.relative)}` : "";
  return `<span class="badge v-${escapeHtml(score.verdict)}">${escapeHtml(VERDICT_LABEL[score.verdict] ?? score.verdict)}${pct}</span>`;
}

function card(item: GalleryItem): string {
  const name = item.file.split("/").pop() ?? item.file;
  const hover = [item.prompt ? `Prompt: ${item.prompt}` : "", item.seed !== undefined ? `Seed: ${item.seed}` : "", item.score ? item.score.note : ""].filter(Boolean).join("\n");
  const quality = item.score ? `<span class="quality" title="face quality 0-1${item.score.quality.issues.length ? `: ${escapeHtml(item.score.quality.issues.join(", "))}` : ""}">quality ${item.score.quality.score.toFixed(2)}</span>` : "";
  const crops = item.crops?.length
    ? `<ul class="crops">${item.crops.map((c) => `<li><a href="${relativeUrl(c.file)}" download>${escapeHtml(c.name)}</a></li>`).join("")}</ul>`
    : "";
  const reason = !item.kept && item.rejectedReason ? `<p class="reason">Set aside: ${escapeHtml(item.rejectedReason)}</p>` : "";
  const details = [item.prompt ? `<p class="prompt">${escapeHtml(item.prompt)}</p>` : "", item.seed !== undefined ? `<p class="seed">seed ${item.seed}</p>` : ""].join("");
  return `<figure class="card ${item.kept ? "kept" : "rejected"}"${hover ? ` title="${escapeHtml(hover)}"` : ""}>
<a class="image" href="${relativeUrl(item.file)}"><img src="${relativeUrl(item.thumb)}" alt="${escapeHtml(name)}"></a>
${details ? `<div class="hover">${details}</div>` : ""}<figcaption>${badge(item.score)} ${quality}<span class="file">${escapeHtml(name)}</span>${reason}${crops}</figcaption>
</figure>`;
}

const STYLE = `
:root{color-scheme:light dark;--bg:#f6f6f4;--fg:#1d1d1f;--card:#fff;--muted:#6b6b70}
@media (prefers-color-scheme:dark){:root{--bg:#18181a;--fg:#eee;--card:#242427;--muted:#a0a0a8}}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header{padding:20px 24px 8px}h1{margin:0 0 4px;font-size:22px}header p{margin:2px 0;color:var(--muted)}
h2{font-size:16px;margin:18px 24px 6px;color:var(--muted)}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(240px,1fr));gap:16px;padding:8px 24px 24px}
.card{position:relative;margin:0;background:var(--card);border-radius:10px;overflow:hidden;box-shadow:0 1px 3px #0002}
.card img{display:block;width:100%;height:auto;object-fit:contain;background:#8883}
.card.rejected{opacity:.42;filter:grayscale(.6)}.card.rejected:hover{opacity:.9}
.hover{position:absolute;left:0;right:0;top:0;max-height:70%;overflow:auto;padding:10px;background:#000c;color:#fff;font-size:13px;opacity:0;transition:opacity .15s;pointer-events:none}
.card:hover .hover{opacity:1}.hover p{margin:0 0 4px}
figcaption{padding:8px 10px 10px;display:flex;flex-wrap:wrap;gap:6px;align-items:center}
.badge{font-weight:600;border-radius:99px;padding:1px 8px;font-size:13px;color:#fff;background:#777}
.v-match{background:#23883f}.v-doubtful{background:#b07800}.v-not_you,.v-no_face,.v-multiple_faces,.v-unreadable{background:#c0392b}
.quality,.file{color:var(--muted);font-size:13px}.file{flex-basis:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.reason{margin:0;font-size:13px;color:#c0392b;flex-basis:100%}
.crops{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px;flex-basis:100%}
.crops a{font-size:12px;border:1px solid #8886;border-radius:6px;padding:1px 6px;color:inherit;text-decoration:none}
`;

/** Says only what this page has: prompts on hover and crop links only when there are some. */
function helpText(items: GalleryItem[], page: GalleryPage): string {
  const parts = [page.reference ? "Best first." : ""];
  if (items.some((i) => i.prompt || i.seed !== undefined)) parts.push("Hover a photo for its prompt and seed; click it for the full image.");
  else parts.push("Click a photo for the full image.");
  if (items.some((i) => i.crops?.length)) parts.push("The links under a kept photo are its ready-to-upload crops.");
  return parts.filter(Boolean).join(" ");
}

export function renderGallery(items: GalleryItem[], page: GalleryPage): string {
  const sorted = [...items].sort(galleryOrder);
  const kept = sorted.filter((i) => i.kept);
  const rejected = sorted.filter((i) => !i.kept);
  const t = page.thresholds;
  const summary = [
    `${kept.length} kept${rejected.length ? `, ${rejected.length} set aside (dimmed)` : ""}`,
    page.reference ? `likeness measured against ${escapeHtml(page.reference)}` : "",
    t ? `match ≥ ${percent(t.match)}, doubtful ≥ ${percent(t.doubtful)} of your selfies' own likeness` : "",
  ].filter(Boolean);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(page.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(page.title)}</h1>
<p>${summary.join(" · ")}</p>
<p>${helpText(sorted, page)}${page.contactSheet ? ` <a href="${relativeUrl(page.contactSheet)}">Contact sheet</a>.` : ""}</p>
${page.reference ? `<p>${escapeHtml(QUALITY_FLOOR_TEXT)}</p>\n` : ""}<p>${page.notice ? `<strong>${escapeHtml(page.notice)}</strong>` : "AI-generated images (labelled as such in their metadata)."} Written ${escapeHtml(page.generatedAt)}.</p>
</header>
<main>
${kept.length ? `<section class="grid">\n${kept.map(card).join("\n")}\n</section>` : `<p style="margin:0 24px">No image was kept.</p>`}
${rejected.length ? `<h2>Set aside</h2>\n<section class="grid">\n${rejected.map(card).join("\n")}\n</section>` : ""}
</main>
</body>
</html>
`;
}
