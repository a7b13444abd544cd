/** The gallery page (pure): order, dimming, hover text, escaping, relative links, nothing remote. */
import { describe, expect, it } from "vitest";
import { galleryOrder, QUALITY_FLOOR_TEXT, REHEARSAL_NOTICE, relativeUrl, renderGallery, type GalleryItem } from "../../../src/curation/gallery-html.js";
import type { ScoreRecord } from "../../../src/scoring/similarity.js";

function score(relative: number | undefined, verdict: ScoreRecord["verdict"], rank: number): ScoreRecord {
  return {
    faces: verdict === "no_face" ? 0 : 1,
    ...(relative !== undefined ? { relative, similarity: relative * 0.9 } : {}),
    verdict,
    quality: { score: 0.8, issues: ["soft"] },
    rank,
    note: "note",
    reference: "identity jane",
    model: "m",
    scoredAt: "2026-11-27T06:00:00.000Z",
  };
}

const items: GalleryItem[] = [
  { file: "b.png", thumb: "thumbs/b.jpg", kept: true, score: score(0.85, "match", 0.93), prompt: "p2", seed: 2 },
  { file: "rejected/c.png", thumb: "thumbs/rejected__c.jpg", kept: false, rejectedReason: "no face found", score: score(undefined, "no_face", -1) },
  { file: "a #1.png", thumb: "thumbs/a #1.jpg", kept: true, score: score(0.97, "match", 1.05), prompt: 'a "quoted" <b>prompt</b> & more', seed: 1, crops: [{ name: "linkedin-400", file: "crops/a #1-linkedin-400.jpg" }] },
  { file: "rejected/d.png", thumb: "thumbs/rejected__d.jpg", kept: false, rejectedReason: "does not look enough like you", score: score(0.4, "not_you", 0.5) },
];
const html = renderGallery(items, { title: "Headshots: jane <corporate>", reference: "identity jane", thresholds: { match: 0.8, doubtful: 0.7 }, contactSheet: "contact-sheet.png", generatedAt: "2026-11-27T06:00:00.000Z" });

describe("renderGallery", () => {
  it("shows kept images best first, then the set-aside ones (dimmed, with the reason)", () => {
    expect([...items].sort(galleryOrder).map((i) => i.file)).toEqual(["a #1.png", "b.png", "rejected/d.png", "rejected/c.png"]);
    const cards = [...html.matchAll(/<figure class="card (kept|rejected)"/g)].map((m) => m[1]);
    expect(cards).toEqual(["kept", "kept", "rejected", "rejected"]);
    expect(html).toContain("Set aside: no face found");
    expect(html).toMatch(/\.card\.rejected\{opacity:\.42/);
    expect(html).toContain("looks like you 97%");
  });

  it("puts prompt and seed in the hover title and the hover panel, escaped", () => {
    expect(html).toContain('title="Prompt: a &quot;quoted&quot; &lt;b&gt;prompt&lt;/b&gt; &amp; more\nSeed: 1\nnote"');
    expect(html).toContain('<p class="prompt">a &quot;quoted&quot; &lt;b&gt;prompt&lt;/b&gt; &amp; more</p><p class="seed">seed 1</p>');
    expect(html).toContain("<title>Headshots: jane &lt;corporate&gt;</title>");
    expect(html).not.toContain("<b>prompt</b>");
  });

  it("links everything relatively, percent-encoded, and loads nothing remote", () => {
    expect(relativeUrl("crops/a #1-linkedin-400.jpg")).toBe("crops/a%20%231-linkedin-400.jpg");
    expect(html).toContain('<a class="image" href="a%20%231.png"><img src="thumbs/a%20%231.jpg"');
    expect(html).toContain('<a href="crops/a%20%231-linkedin-400.jpg" download>linkedin-400</a>');
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(|<script/);
    expect(html).not.toContain('loading="lazy"'); // every image must load when opened
  });

  it("promises prompts and crop links only when there are some, and explains the quality floor (issue 15)", () => {
    expect(html).toContain("Hover a photo for its prompt and seed");
    expect(html).toContain("ready-to-upload crops");
    expect(html).toContain(QUALITY_FLOOR_TEXT.replace(/'/g, "&#39;"));
    const bare = renderGallery([{ file: "x.png", thumb: "thumbs/x.jpg", kept: true }], { title: "Headshots: x", generatedAt: "2026-11-27T06:00:00.000Z" });
    expect(bare).not.toContain("Hover a photo for its prompt");
    expect(bare).not.toContain("ready-to-upload crops");
    expect(bare).toContain("Click a photo for the full image.");
    expect(bare).not.toContain("quality floor");
    expect(bare).toContain("AI-generated images");
  });

  it("says what rehearsal previews are instead of calling them AI-generated", () => {
    const page = renderGallery(items, { title: "jane · corporate · PREVIEW", reference: "identity jane", notice: REHEARSAL_NOTICE, generatedAt: "2026-11-27T06:00:00.000Z" });
    expect(page).toContain("drawn from your own selfies, not generated");
    expect(page).not.toContain("AI-generated images");
  });
});
