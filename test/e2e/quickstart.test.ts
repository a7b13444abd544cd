/**
 * A newcomer's first hour (issue 15), end to end with the built binary: on a copy of the clone's
 * tracked files (what `git clone` + `npm ci` gives), with no token and no GPU, run exactly the
 * commands of README's quickstart, then `batch examples/team.yaml --backend test`, then open every
 * gallery in headless Chromium and check that each thumbnail shows a whole head: the face detector
 * runs on the screenshot of each rendered thumbnail, and the head around the face it finds must lie
 * inside the picture.
 *
 * HEADSHOT_E2E_SHOTS=<dir> keeps the page screenshots there, to look at.
 */
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeFaceModel, detectFaces } from "../../src/selfies/faces.js";
import { headBox } from "../../src/curation/thumb-frame.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`\n!!! ${CHROMIUM} not found: the quickstart gallery checks are SKIPPED. Install Debian's chromium or set CHROMIUM_PATH.\n`);
const ROOT = process.cwd();
const SHOTS = process.env.HEADSHOT_E2E_SHOTS;

let dir: string;
let clone: string;
let browser: Browser | undefined;

/** The commands of the README's first quickstart block, as argv arrays (they use no quoting). */
async function quickstartCommands(): Promise<string[][]> {
  const readme = await readFile(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Quickstart"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
  const commands = block
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("headshot "));
  for (const c of commands) expect(c, "quickstart commands are run without a shell: no quotes").not.toMatch(/["'$`|&;]/);
  return commands.map((c) => c.split(/\s+/).slice(1));
}

function run(args: string[]) {
  const env: Record<string, string | undefined> = { ...process.env, HEADSHOT_HOME: join(dir, "home"), NO_COLOR: "1", CI: "1" };
  delete env.REPLICATE_API_TOKEN;
  delete env.HEADSHOT_BACKEND;
  return execa("node", [join(clone, "bin", "headshot.js"), ...args], { cwd: clone, reject: false, env, extendEnv: false, timeout: 300_000 });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-quickstart-"));
  clone = join(dir, "clone");
  // A clean clone: only the tracked files, plus what `npm ci` adds (node_modules, the built dist/).
  const tracked = (await execa("git", ["ls-files", "-z"], { cwd: ROOT })).stdout.split("\0").filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(join(ROOT, file))) continue;
    await mkdir(dirname(join(clone, file)), { recursive: true });
    await cp(join(ROOT, file), join(clone, file));
  }
  await cp(join(ROOT, "dist"), join(clone, "dist"), { recursive: true });
  await symlink(join(ROOT, "node_modules"), join(clone, "node_modules"), "dir");
  if (hasChromium) browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await closeFaceModel();
  await rm(dir, { recursive: true, force: true });
});

interface Card {
  kept: boolean;
  href: string;
  crops: number;
  reason: string;
  shot: Buffer;
}

async function openGallery(indexHtml: string, shotName: string): Promise<{ title: string; text: string; cards: Card[]; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => void errors.push(String(e)));
  page.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
  await page.goto(pathToFileURL(indexHtml).href, { waitUntil: "load" });
  if (SHOTS) {
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${shotName}.png`), fullPage: true });
  }
  const cards: Card[] = [];
  for (const card of await page.locator("figure.card").all()) {
    const img = card.locator("img");
    await img.scrollIntoViewIfNeeded();
    cards.push({
      kept: (await card.getAttribute("class"))?.includes("kept") ?? false,
      href: (await card.locator("a.image").getAttribute("href")) ?? "",
      crops: await card.locator(".crops a").count(),
      reason: (await card.locator(".reason").allTextContents()).join(" "),
      // The picture as rendered, at full opacity (set-aside cards are dimmed by CSS).
      shot: await img.screenshot({ style: "figure.card{opacity:1 !important;filter:none !important}" }),
    });
  }
  const title = await page.title();
  const text = await page.locator("header").innerText();
  await page.close();
  return { title, text, cards, errors };
}

/** The card's image sidecar: what scoring found in the full image. */
async function sidecarOf(galleryDir: string, href: string): Promise<{ rehearsal?: { plant: string }; score?: { faces: number; face?: { box: number[] } }; width: number }> {
  const file = decodeURIComponent(href).replace(/\.[^./]+$/, ".json");
  return JSON.parse(await readFile(join(galleryDir, file), "utf8")) as never;
}

/** Every thumbnail of a face the full image shows large enough to see shows the whole head. */
async function expectWholeHeads(galleryDir: string, cards: Card[]): Promise<void> {
  const { default: sharp } = await import("sharp");
  for (const card of cards) {
    const side = await sidecarOf(galleryDir, card.href);
    const faceShare = side.score?.face ? (side.score.face.box[2] ?? 0) / side.width : 0;
    // Planted small faces (and faceless images) are too small to find again in a 300 px picture.
    if (side.score?.faces !== 1 || faceShare < 0.15) continue;
    const meta = await sharp(card.shot).metadata();
    const faces = await detectFaces(card.shot);
    expect(faces, `${card.href}: one face in its thumbnail`).toHaveLength(1);
    const [x, y, w, h] = headBox(faces[0]!.box);
    const margin = -0.02 * (meta.width ?? 0); // a hair's breadth of rounding
    expect(x, `${card.href}: head inside on the left`).toBeGreaterThanOrEqual(margin);
    expect(y, `${card.href}: the top of the head (hair) inside`).toBeGreaterThanOrEqual(margin);
    expect(x + w, `${card.href}: head inside on the right`).toBeLessThanOrEqual((meta.width ?? 0) - margin);
    expect(y + h, `${card.href}: chin inside`).toBeLessThanOrEqual((meta.height ?? 0) - margin);
  }
}

describe("README quickstart on a clean clone, no token, no GPU", () => {
  it("runs every quickstart command and batch examples/team.yaml; every gallery shows kept, set-aside and cropped previews with whole heads", { timeout: 900_000 }, async () => {
    const commands = await quickstartCommands();
    expect(commands.map((c) => c[0])).toEqual(["check", "train", "gen", "gen", "batch"]);
    expect(commands.at(-1)).toEqual(["batch", "examples/team.yaml", "--backend", "test"]);
    for (const args of commands) {
      const r = await run(args);
      expect(r.exitCode, `headshot ${args.join(" ")}\n${r.stderr.slice(-3000)}`).toBe(0);
    }

    const galleries = [join(clone, "headshots", "grace", "corporate")];
    for (const person of await readdir(join(clone, "examples", "headshots"))) {
      for (const preset of await readdir(join(clone, "examples", "headshots", person))) galleries.push(join(clone, "examples", "headshots", person, preset));
    }
    expect(galleries.length).toBe(4); // grace/corporate; grace: acme-brand + linkedin; eileen: executive
    if (!browser) return;
    for (const gallery of galleries) {
      const name = gallery.split(/[\\/]/).slice(-2).join("-");
      const page = await openGallery(join(gallery, "index.html"), name);
      expect(page.errors).toEqual([]);
      expect(page.title).toContain("PREVIEW");
      expect(page.text).toContain("drawn from your own selfies");
      expect(page.text).toContain("quality floor");
      expect(page.cards.some((c) => c.kept), `${name}: something kept`).toBe(true);
      for (const card of page.cards.filter((c) => c.kept)) expect(card.crops, `${name}: ${card.href} has its crops`).toBeGreaterThan(0);
      await expectWholeHeads(gallery, page.cards);
    }
    // The quickstart's own gallery shows the planted failures set aside with their reasons.
    const first = await openGallery(join(galleries[0]!, "index.html"), "quickstart-again");
    expect(first.cards.filter((c) => !c.kept).length).toBeGreaterThanOrEqual(2);
    expect(first.cards.filter((c) => !c.kept).map((c) => c.reason).join(" ")).toMatch(/does not look enough like you/);
  });
});
