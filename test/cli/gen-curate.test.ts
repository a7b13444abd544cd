/**
 * `gen --keep-best / --until / --budget / --crops` in-process against the Replicate emulator, with
 * real face models, real sharp and real files. The emulator serves portraits built from the two
 * public-domain fixtures (build-outputs.ts): Eileen Collins is the registered identity (selfie
 * summary measured by `check`, as `train` stores it), Grace Hopper is someone else.
 */
import { mkdtemp, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCheck } from "../../src/selfies/index.js";
import { embeddingCentroid } from "../../src/identity/registry.js";
import { DESCRIPTOR_MODEL, IDENTITY_THRESHOLDS } from "../../src/scoring/calibration.js";
import { readXmpFields } from "../../src/generation/xmp.js";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { addTrainedModel, predictionCreates, registerIdentity } from "../unit/generation/fixtures.js";
import { collinsSelfies, generatedLike, writeAll, type Transform } from "../unit/scoring/build-outputs.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let emu: ReplicateEmulator;
let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let env: Record<string, string>;
const portraits: Record<"c" | "h", Buffer[]> = { c: [], h: [] };

/** Output of the prediction with seed base+i: `people[i]` ("c" Collins, "h" Hopper). */
function serve(base: number, people: Array<"c" | "h">): void {
  const used = { c: 0, h: 0 };
  const bySeed = new Map<number, Buffer>();
  people.forEach((p, i) => bySeed.set(base + i, portraits[p][used[p]++ % portraits[p].length]!));
  emu.state.outputImage = (input) => bySeed.get(Number(input.seed));
}

async function manifestOf(out: string): Promise<Json> {
  return JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
}

async function cacheFiles(home: string): Promise<Map<string, number>> {
  const root = join(home, "cache", "selfies");
  const found = new Map<string, number>();
  for (const dir of await readdir(root).catch(() => [] as string[])) {
    for (const f of await readdir(join(root, dir))) found.set(f, (await stat(join(root, dir, f))).mtimeMs);
  }
  return found;
}

/** What `train` stores about the selfies (measured once by the real check). */
let selfieSummary: Record<string, unknown>;
let home: string;
let abort: AbortController;
let abortTimer: NodeJS.Timeout | undefined;
/** Under the test timeout: a test that runs too long stops its own CLI work (issue 14). */
const TEST_TIMEOUT_MS = 180_000;
const WORK_BUDGET_MS = TEST_TIMEOUT_MS - 15_000;

beforeAll(async () => {
  ws = await tempWorkspace("headshot-gen-curate-");
  const transforms: Transform[] = ["full", "teal-background", "relit-up"];
  for (const t of transforms) {
    portraits.c.push(await generatedLike("collins", t));
    portraits.h.push(await generatedLike("hopper", t));
  }
  await writeAll(join(ws.dir, "selfies"), await collinsSelfies());
  const report = await runCheck(join(ws.dir, "selfies"), { home: ws.home });
  const embeddings = report.images.filter((i) => i.verdict !== "reject" && i.embedding).map((i) => i.embedding!);
  selfieSummary = {
    verdict: report.set.verdict,
    usable: report.set.usable,
    total: report.set.total,
    selfSimilarity: report.set.selfSimilarity!,
    embedding: { model: DESCRIPTOR_MODEL, dims: embeddings[0]!.length, count: embeddings.length, centroid: embeddingCentroid(embeddings)! },
  };
}, 180_000);
afterAll(async () => {
  await ws.cleanup();
});
// Each test its own emulator (its own jobs and request log) and its own HEADSHOT_HOME, so work a
// slow test leaves behind can never create predictions on the next test's server.
beforeEach(async () => {
  emu = await startReplicateEmulator({ latencyMs: 100 });
  home = await mkdtemp(join(ws.dir, "home-"));
  await registerIdentity(home, "jane", { backend: "replicate", replicate: { version: addTrainedModel(emu, "face-lora-collins") }, selfies: selfieSummary });
  env = { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
  abort = new AbortController();
  abortTimer = setTimeout(() => abort.abort(), WORK_BUDGET_MS);
});
afterEach(async () => {
  clearTimeout(abortTimer);
  abort.abort();
  await emu.close();
});

describe("gen --keep-best --crops", () => {
  it("keeps the identity's 2 best, sets the others aside with scores, crops and a gallery; a re-run pays and scores nothing again", { timeout: TEST_TIMEOUT_MS }, async () => {
    serve(100, ["c", "h", "c", "h"]);
    const out = join(ws.dir, "keep");
    const args = ["--json", "gen", "--preset", "corporate", "--identity", "jane", "--count", "4", "--seed", "100", "--keep-best", "2", "--crops", "--out", out];
    const first = await runCli(args, { cwd: ws.dir, env, signal: abort.signal });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(predictionCreates(emu)).toHaveLength(4);
    const summary = first.json().at(-1) as Json;
    expect(summary.curation).toMatchObject({ scored: true, kept: 2, setAside: 2 });

    const manifest = await manifestOf(out);
    const entries = Object.values(manifest.images) as Json[];
    const kept = entries.filter((e) => e.kept);
    const aside = entries.filter((e) => e.kept === false);
    expect(kept.map((e) => e.seed).sort()).toEqual([100, 102]);
    expect(aside.map((e) => e.seed).sort()).toEqual([101, 103]);
    for (const e of entries) {
      expect(e.status).toBe("done");
      expect(e.score).toMatchObject({ faces: 1, verdict: expect.any(String), relative: expect.any(Number) });
    }
    for (const e of kept) {
      expect(e.score.relative).toBeGreaterThanOrEqual(IDENTITY_THRESHOLDS.match);
      expect(e.score.verdict).toBe("match");
      expect(e.file).not.toMatch(/^rejected\//);
      expect(e.crops).toHaveLength(5);
    }
    for (const e of aside) {
      // Hopper against near-identical Collins "selfies": high relative, under the raw floor.
      expect(e.score.verdict).not.toBe("match");
      expect(e.score.similarity).toBeLessThan(IDENTITY_THRESHOLDS.matchFloor);
      expect(e.file).toMatch(/^rejected\//);
      expect(e.rejectedReason).toBe("below_min_similarity");
      const sidecar = JSON.parse(await readFile(join(out, e.file.replace(/\.png$/, ".json")), "utf8"));
      expect(sidecar.score.relative).toBeCloseTo(e.score.relative, 5);
      expect(sidecar.rejected.reason).toBe("below_min_similarity");
    }
    const top = (await readdir(out)).filter((f) => f.endsWith(".png") && f !== "contact-sheet.png");
    expect(top.sort()).toEqual(kept.map((e) => e.file).sort());
    expect((await readdir(join(out, "rejected"))).filter((f) => f.endsWith(".png"))).toHaveLength(2);
    const crops = await readdir(join(out, "crops"));
    expect(crops).toHaveLength(10);
    const crop = await sharp(join(out, kept[0]!.crops[0].file)).metadata();
    expect(readXmpFields(crop.xmp?.toString("utf8") ?? "")).toMatchObject({
      DigitalSourceType: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia",
      seed: String(kept[0]!.seed),
    });
    const html = await readFile(join(out, "index.html"), "utf8");
    for (const e of entries) expect(html).toContain(e.file);
    for (const e of kept) for (const c of e.crops) expect(html).toContain(c.file);
    // Best first: both kept images come before the ones set aside.
    const firstAside = Math.min(...aside.map((e) => html.indexOf(e.file)));
    for (const e of kept) expect(html.indexOf(e.file)).toBeLessThan(firstAside);
    await stat(join(out, "contact-sheet.png"));

    // Re-run the same command: nothing created, nothing analysed again, the selection unchanged.
    const before = await cacheFiles(home);
    emu.clearLog();
    const again = await runCli(args, { cwd: ws.dir, env, signal: abort.signal });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(predictionCreates(emu)).toHaveLength(0);
    expect(await cacheFiles(home)).toEqual(before);
    const after = await manifestOf(out);
    for (const e of entries) {
      expect(after.images[e.key]).toMatchObject({ status: "done", file: e.file, kept: e.kept, sha256: e.sha256 });
      expect(after.images[e.key].score.relative).toBeCloseTo(e.score.relative, 6);
    }
  });
});

describe("gen --ref --keep-best", () => {
  it("scores against the --ref selfies (no trained identity)", { timeout: TEST_TIMEOUT_MS }, async () => {
    serve(500, ["h", "c", "c"]);
    const out = join(ws.dir, "ref");
    const r = await runCli(["--json", "gen", "--preset", "corporate", "--ref", "selfies", "--model", "flux-2-dev", "--count", "3", "--seed", "500", "--keep-best", "1", "--out", out], { cwd: ws.dir, env, signal: abort.signal });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const curated = (r.json().at(-1) as Json).curation.curated as Json[];
    expect(curated.filter((c) => c.kept)).toHaveLength(1);
    expect(curated.find((c) => c.kept)?.file).toMatch(/-50[12]\.png$/);
    expect(curated.map((c) => c.reason).sort()).toEqual(["below_min_similarity", "not_in_best", null]);
  });
});

describe("gen --until / --budget", () => {
  it("stops creating once K images pass; a re-run creates nothing more", { timeout: TEST_TIMEOUT_MS }, async () => {
    serve(200, ["h", "c", "h", "c", "c", "c"]);
    const out = join(ws.dir, "until");
    const args = ["--json", "gen", "--preset", "corporate", "--identity", "jane", "--until", "2", "--max-count", "6", "--seed", "200", "--concurrency", "2", "--out", out];
    const first = await runCli(args, { cwd: ws.dir, env, signal: abort.signal });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    expect(predictionCreates(emu).map((c) => c.input.seed)).toEqual([200, 201, 202, 203]);
    const summary = first.json().at(-1) as Json;
    expect(summary.curation.until).toEqual({ target: 2, passed: 2, reached: true, stoppedBy: "reached" });
    const manifest = await manifestOf(out);
    const statuses = (Object.values(manifest.images) as Json[]).map((e) => `${e.seed}:${e.status}:${e.kept ?? "-"}`).sort();
    expect(statuses).toEqual(["200:done:false", "201:done:true", "202:done:false", "203:done:true", "204:planned:-", "205:planned:-"]);

    emu.clearLog();
    const again = await runCli(args, { cwd: ws.dir, env, signal: abort.signal });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(predictionCreates(emu)).toHaveLength(0);
  });

  it("--budget stops before the estimate would pass it: exit 5 when K was not reached", { timeout: TEST_TIMEOUT_MS }, async () => {
    serve(300, ["h", "h", "h", "c", "c", "c"]);
    const out = join(ws.dir, "budget");
    // $0.032 an image (price table, trained version): 2 fit in $0.07, a third would not.
    const r = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "jane", "--until", "2", "--max-count", "6", "--budget", "0.07", "--seed", "300", "--concurrency", "3", "--out", out], { cwd: ws.dir, env, signal: abort.signal });
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect(predictionCreates(emu)).toHaveLength(2);
    const lines = r.json();
    const error = lines.find((l: Json) => l.type === "error") ?? lines.at(-1);
    expect(JSON.stringify(error)).toMatch(/E_GEN_UNTIL_SHORT/);
    expect(JSON.stringify(error)).toMatch(/--budget of \$0\.07/);
    await stat(join(out, "index.html"));
  });

  it("--budget alone caps a plain batch: what fits is made and scored, the rest is left for a re-run (exit 5)", { timeout: TEST_TIMEOUT_MS }, async () => {
    serve(400, ["c", "h", "c", "c"]);
    const out = join(ws.dir, "budget-only");
    const r = await runCli(["gen", "--preset", "corporate", "--identity", "jane", "--count", "4", "--budget", "0.07", "--seed", "400", "--out", out], { cwd: ws.dir, env, signal: abort.signal });
    expect(r.code).toBe(5);
    expect(predictionCreates(emu)).toHaveLength(2);
    expect(r.stderr).toMatch(/2 of 4 images were not made: stopped at the --budget of \$0\.07/);
    expect(r.stderr).toMatch(/raise --budget and re-run.*--budget 0\.07/);
    // Without --keep-best nothing is moved; the gallery shows both, the other person dimmed.
    expect(r.stdout).toMatch(/Likeness, best first \(1 of 2 look like you\)/);
    expect(r.stdout).toMatch(/Gallery: .*index\.html/);
    expect((await readdir(out)).filter((f) => f.endsWith(".png") && f !== "contact-sheet.png")).toHaveLength(2);
  });

  it("refuses flag combinations that cannot work, before anything is created", { timeout: TEST_TIMEOUT_MS }, async () => {
    const noRef = await runCli(["gen", "--preset", "corporate", "--count", "2", "--backend", "test", "--keep-best", "1", "--out", join(ws.dir, "x")], { cwd: ws.dir, env, signal: abort.signal });
    expect(noRef.code).toBe(2);
    expect(noRef.stderr).toMatch(/--keep-best .*--identity <name> or --ref <dir>/);
    const both = await runCli(["gen", "--preset", "corporate", "--identity", "jane", "--until", "2", "--count", "4", "--out", join(ws.dir, "y")], { cwd: ws.dir, env, signal: abort.signal });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--max-count/);
    const noScore = await runCli(["gen", "--preset", "corporate", "--identity", "jane", "--count", "2", "--no-score", "--keep-best", "1", "--out", join(ws.dir, "z")], { cwd: ws.dir, env, signal: abort.signal });
    expect(noScore.code).toBe(2);
    expect(noScore.stderr).toMatch(/--no-score cannot be combined/);
    expect(predictionCreates(emu)).toHaveLength(0);
  });

  it("--no-score makes the batch and its gallery without scoring anything", { timeout: TEST_TIMEOUT_MS }, async () => {
    serve(600, ["c", "h"]);
    const out = join(ws.dir, "no-score");
    const r = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "jane", "--count", "2", "--seed", "600", "--no-score", "--out", out], { cwd: ws.dir, env, signal: abort.signal });
    expect(r.code).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as { images: Record<string, { status: string; score?: unknown }> };
    const entries = Object.values(manifest.images);
    expect(entries.map((e) => e.status)).toEqual(["done", "done"]);
    expect(entries.every((e) => e.score === undefined)).toBe(true);
    expect(await readdir(out)).toContain("index.html");
  });
});
