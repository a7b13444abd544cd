/**
 * The gallery a person opens after `gen`, in a real headless Chromium (Debian's `chromium`): loaded
 * from disk with no server and no network, it must show every image with no console error and no
 * failed or non-file request. Two pages: the one `gen --keep-best --crops` writes (through
 * curate(), with crops and a rejected/ folder), and the one the built binary's `score --gallery`
 * writes.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadReference } from "../../src/scoring/reference.js";
import { curate } from "../../src/curation/curate.js";
import { collinsSelfies, generatedLike, noFace, twoPeople, writeAll, writeGenLikeFolder } from "../unit/scoring/build-outputs.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`\n!!! ${CHROMIUM} not found: the gallery browser tests are SKIPPED. Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.\n`);
/** Shown in the test names when skipped, so the reason is in the run's output. */
const needs = (name: string): string => (hasChromium ? name : `${name} [SKIPPED: no Chromium at ${CHROMIUM}]`);
const BIN = join(process.cwd(), "bin", "headshot.js");

let dir: string;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-gallery-e2e-"));
  await writeAll(join(dir, "selfies"), await collinsSelfies());
  const images = {
    "corporate-001.jpg": await generatedLike("collins", "full"),
    "corporate-002.jpg": await generatedLike("collins", "warm"),
    "corporate-003.jpg": await generatedLike("hopper", "teal-background"),
    "corporate-004.jpg": await noFace(),
    "corporate-005.jpg": await twoPeople(),
    "corporate 006 #2.jpg": await generatedLike("collins", "teal-background"), // URL-unsafe name
  };
  await writeGenLikeFolder(join(dir, "gen"), images);
  await writeGenLikeFolder(join(dir, "scored"), images);
  if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

interface PageReport {
  errors: string[];
  badRequests: string[];
  images: Array<{ src: string; ok: boolean }>;
  cards: Array<{ href: string; kept: boolean; opacity: number; title: string; badge: string; crops: string[] }>;
}

async function openGallery(indexHtml: string): Promise<PageReport> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  const badRequests: string[] = [];
  page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
  page.on("pageerror", (e) => void errors.push(String(e)));
  page.on("requestfailed", (r) => void badRequests.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  page.on("request", (r) => void (!r.url().startsWith("file://") && !r.url().startsWith("data:") && badRequests.push(`network: ${r.url()}`)));
  await page.goto(pathToFileURL(indexHtml).href, { waitUntil: "load" });
  const report = await page.evaluate(() => ({
    images: Array.from(document.images).map((img) => ({ src: img.getAttribute("src") ?? "", ok: img.complete && img.naturalWidth > 0 })),
    cards: Array.from(document.querySelectorAll("figure.card")).map((card) => ({
      href: card.querySelector("a.image")?.getAttribute("href") ?? "",
      kept: card.classList.contains("kept"),
      opacity: Number(getComputedStyle(card).opacity),
      title: card.getAttribute("title") ?? "",
      badge: card.querySelector(".badge")?.textContent ?? "",
      crops: Array.from(card.querySelectorAll(".crops a")).map((a) => (a as HTMLAnchorElement).href),
    })),
  }));
  await page.close();
  return { errors, badRequests, ...report };
}

describe("gallery in headless Chromium", () => {
  it.skipIf(!hasChromium)(needs("gen's page (keep best 3, crops): loads offline, shows every image best first, rejected dimmed, prompt and seed on hover"), async () => {
    const out = join(dir, "gen");
    const reference = await loadReference({ home: join(dir, "home"), selfies: join(dir, "selfies") });
    const files = ["corporate 006 #2.png", "corporate-001.png", "corporate-002.png", "corporate-003.png", "corporate-004.png", "corporate-005.png"];
    const result = await curate(files.map((file) => ({ file })), { outDir: out, reference, home: join(dir, "home"), keep: 3, moveRejected: true, crops: true, sidecars: "all", title: "Headshots: jane / corporate" });
    const page = await openGallery(result.galleryPath);
    expect(page.errors).toEqual([]);
    expect(page.badRequests).toEqual([]);
    expect(page.images).toHaveLength(6);
    for (const img of page.images) expect(img.ok, img.src).toBe(true);
    expect(page.cards.map((c) => decodeURIComponent(c.href)).slice(0, 3)).toEqual(result.selection.kept.map((k) => k.file));
    expect(page.cards.filter((c) => c.kept)).toHaveLength(3);
    for (const card of page.cards) {
      if (card.kept) {
        expect(card.opacity).toBe(1);
        expect(card.badge).toMatch(/looks like you \d+%/);
        expect(card.crops).toHaveLength(5);
        for (const crop of card.crops) expect(existsSync(new URL(crop)), crop).toBe(true);
      } else {
        expect(card.opacity).toBeLessThan(0.6);
        expect(card.href.startsWith("rejected/")).toBe(true);
      }
      expect(card.title).toMatch(/Prompt: corporate headshot of ohwx woman[\s\S]*Seed: 10\d\d/);
    }
  });

  it.skipIf(!hasChromium)(needs("the built binary's `score --gallery` page loads offline and shows every image"), async () => {
    const run = await execa("node", [BIN, "score", "scored", "--selfies", "selfies", "--gallery"], { cwd: dir, reject: false, timeout: 45_000, env: { HEADSHOT_HOME: join(dir, "home"), NO_COLOR: "1" } });
    expect(run.timedOut, "the binary finished its work but did not exit within 45 s (something keeps the event loop alive)").toBe(false);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain("Gallery:");
    const page = await openGallery(join(dir, "scored", "index.html"));
    expect(page.errors).toEqual([]);
    expect(page.badRequests).toEqual([]);
    expect(page.images).toHaveLength(6);
    for (const img of page.images) expect(img.ok, img.src).toBe(true);
    // No --keep-best here: everything that looks like the person is shown first, the rest dimmed.
    expect(page.cards.filter((c) => c.kept)).toHaveLength(3);
    expect(page.cards.slice(3).every((c) => c.opacity < 0.6)).toBe(true);
  });
});
