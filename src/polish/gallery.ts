/**
 * `polished/index.html` (pure): before and after side by side for every polished image, with the
 * likeness and quality of both, the decision and its reason. Self-contained like the gen gallery
 * (src/outputs/gallery-html.ts): inline CSS, relative links, no script, opens from disk.
 */
import { escapeHtml, relativeUrl } from "../curation/gallery-html.js";
import type { PolishEntry, PolishManifest } from "./manifest.js";
import { percent } from "../util/percent.js";

const pct = (v: number | undefined): string => (v === undefined ? "-" : percent(v));

function card(entry: PolishEntry): string {
  if (!entry.after || !entry.scores) return "";
  const kept = entry.decision === "polished";
  const s = entry.scores;
  return [
    `<figure class="${kept ? "kept" : "original"}">`,
    `<div class="pair"><a href="${relativeUrl(`../${entry.file}`)}"><img src="${relativeUrl(`../${entry.file}`)}" alt="before: ${escapeHtml(entry.file)}" loading="lazy"></a>`,
    `<a href="${relativeUrl(entry.after.file)}"><img src="${relativeUrl(entry.after.file)}" alt="after: ${escapeHtml(entry.after.file)}" loading="lazy"></a></div>`,
    `<figcaption><b>${escapeHtml(entry.file)}</b>: ${kept ? "polished version kept" : "original kept"}`,
    `<br>likeness ${pct(s.before.relative)} &rarr; ${pct(s.after.relative)}, quality ${s.before.quality} &rarr; ${s.after.quality}`,
    `<br><small>${escapeHtml(entry.reason ?? "")}</small>`,
    entry.final ? `<br><a href="${relativeUrl(entry.final.file)}">final file</a> (${entry.final.width}x${entry.final.height})` : "",
    `</figcaption></figure>`,
  ].join("");
}

export function renderPolishGallery(manifest: PolishManifest, generatedAt: string): string {
  const cards = Object.values(manifest.images)
    .filter((e) => e.after)
    .sort((a, b) => a.file.localeCompare(b.file))
    .map(card)
    .join("\n");
  const note = manifest.placeholder ? `<p class="warn">Test backend: a labelled rehearsal, not a real face pass.</p>` : "";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>headshot polish: before and after</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;background:#fafafa;color:#222}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1.2rem}
figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem}
figure.original{opacity:.85;border-color:#e0b000}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:.4rem}
.pair img{width:100%;height:auto;display:block}
figcaption{margin-top:.4rem;font-size:.9rem}
.warn{color:#a00;font-weight:bold}
</style></head><body>
<h1>Before and after the face pass</h1>
<p>Identity ${escapeHtml(manifest.identity)}, ${escapeHtml(manifest.model)}, strength ${manifest.settings.strength}. Left: the original; right: the face pass. Written ${escapeHtml(generatedAt)}.</p>
${note}
<div class="grid">
${cards}
</div>
</body></html>
`;
}
