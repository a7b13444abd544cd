/**
 * A batch preset runs the one generate use case, so every curation flag of `gen` means the same in
 * a batch file (issue 16): `until` against the Replicate emulator with real face models, `polish:`
 * (the face detail pass on each kept image, pixels outside the face unchanged), `score: false`,
 * and a bad combination refused with gen's own words before anything runs. The emulator serves
 * portraits built from the public-domain fixtures: Eileen Collins is the registered identity
 * "jane", Grace Hopper someone else.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli } from "../support/run-cli.js";
import { writeText } from "../support/batch/workspace.js";
import { compareOutsideInside, polishWorkspace, POLISHED_DIR } from "../support/polish/workspace.js";
import { addFineTunedModel, modelAnswers } from "../support/polish/replicate.js";
import { predictionCreates } from "../unit/generation/fixtures.js";
import { generatedLike } from "../unit/scoring/build-outputs.js";

// Parsed JSON lines, read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** Under the test timeout: a test that runs too long stops its own CLI work (issue 14). */
const TEST_TIMEOUT_MS = 240_000;

let dir: string;
let baseEnv: Record<string, string>;
let answers: Awaited<ReturnType<typeof modelAnswers>>;
const portraits: { collins: Buffer[]; hopper: Buffer[] } = { collins: [], hopper: [] };
let emu: ReplicateEmulator;
let env: Record<string, string>;
let abort: AbortController;
let abortTimer: NodeJS.Timeout | undefined;

beforeAll(async () => {
  // The version id is derived from the model name alone, so every test's emulator serves the same one.
  const version = addFineTunedModel({ state: { models: new Map() } } as unknown as ReplicateEmulator, "jane-face");
  const ws = await polishWorkspace("headshot-batch-curation-", { backend: "replicate", replicate: { version } });
  dir = ws.dir;
  baseEnv = ws.env;
  answers = await modelAnswers();
  portraits.collins.push(await generatedLike("collins", "full"), await generatedLike("collins", "teal-background"));
  portraits.hopper.push(await generatedLike("hopper", "full"));
}, 180_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Each test its own emulator: gen's text-to-image inputs get Collins for an even seed and Hopper for
 * an odd one when `alternate`, else always Collins; the face pass (a mask) gets the model's face.
 */
async function emulator(alternate: boolean): Promise<void> {
  emu = await startReplicateEmulator({ latencyMs: 60 });
  addFineTunedModel(emu, "jane-face");
  emu.state.outputImage = (input) => {
    if (input.mask || input.image !== undefined) return answers.face;
    const seed = Number(input.seed);
    return alternate && seed % 2 === 1 ? portraits.hopper[0] : portraits.collins[seed % 2 === 0 ? 0 : 1];
  };
  env = { ...baseEnv, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
}

beforeEach(() => {
  abort = new AbortController();
  abortTimer = setTimeout(() => abort.abort(), TEST_TIMEOUT_MS - 15_000);
});
afterEach(async () => {
  clearTimeout(abortTimer);
  abort.abort();
  await emu?.close();
});

const batchFile = (out: string, entry: string, extra = "") => `out: ./${out}\nconcurrency: 1\npeople:\n  - name: jane\n    identity: jane\n${extra}    presets:\n      - ${entry}\n`;
const batch = (file: string) => runCli(["--json", "batch", file], { cwd: dir, env, signal: abort.signal });
const manifestOf = async (folder: string): Promise<Json> => JSON.parse(await readFile(join(folder, "manifest.json"), "utf8")) as Json;

describe("batch presets with gen's curation flags", () => {
  it("until: stops creating once enough images look like the person, within maxCount; nothing is moved", { timeout: TEST_TIMEOUT_MS }, async () => {
    await emulator(true);
    await writeText(join(dir, "until.yaml"), batchFile("until-out", "{preset: corporate, until: 2, maxCount: 6}"));
    const r = await batch("until.yaml");
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    const s = r.json().at(-1) as Json;
    expect(s.people[0].presets[0]).toMatchObject({ status: "done", images: 2, expected: 2 });
    // Collins and Hopper alternate: two passes need 3 or 4 images, never the 6 planned.
    const creates = predictionCreates(emu);
    expect(creates.length).toBeGreaterThanOrEqual(3);
    expect(creates.length).toBeLessThanOrEqual(4);
    const folder = join(dir, "until-out", "jane", "corporate");
    const entries = Object.values((await manifestOf(folder)).images) as Json[];
    expect(entries).toHaveLength(6);
    expect(entries.filter((e) => e.status === "planned").length).toBe(6 - creates.length);
    const done = entries.filter((e) => e.status === "done");
    expect(done.filter((e) => e.kept === true)).toHaveLength(2);
    // A batch marks what it does not keep; paid files stay where the manifest says.
    expect(done.every((e) => !String(e.file).startsWith("rejected/"))).toBe(true);
    expect(r.json().find((l) => l.type === "curate.done")).toMatchObject({ person: "jane", preset: "corporate", kept: 2 });

    // The same command again: K is reached already, so nothing is created and the counts hold.
    const again = await batch("until.yaml");
    expect(again.code, again.stdout.slice(-2000)).toBe(0);
    expect(predictionCreates(emu)).toHaveLength(creates.length);
    expect((again.json().at(-1) as Json).people[0].presets[0]).toMatchObject({ status: "done", images: 2, expected: 2 });
  });

  it("polish: true: a polished file per kept image, pixels outside the face unchanged, the manifest records it", { timeout: TEST_TIMEOUT_MS }, async () => {
    await emulator(false);
    await writeText(join(dir, "polish.yaml"), batchFile("polish-out", "{preset: corporate, count: 2, polish: true}", "    keepBest: 2\n"));
    const r = await batch("polish.yaml");
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    const s = r.json().at(-1) as Json;
    expect(s.people[0].presets[0].polish).toMatchObject({ failed: 0 });
    expect(r.json().filter((l) => l.type === "polish.image.done" && l.person === "jane")).toHaveLength(2);
    const folder = join(dir, "polish-out", "jane", "corporate");
    const kept = (Object.values((await manifestOf(folder)).images) as Json[]).filter((e) => e.kept === true).map((e) => e.file as string);
    expect(kept).toHaveLength(2);
    const polish = JSON.parse(await readFile(join(folder, POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    expect(Object.keys(polish.images).sort()).toEqual([...kept].sort());
    const finals = await readdir(join(folder, POLISHED_DIR));
    for (const file of kept) {
      const entry = polish.images[file] as Json;
      expect(entry).toMatchObject({ status: "done", strength: 0.35, scores: { before: { relative: expect.any(Number) }, after: { relative: expect.any(Number) } } });
      expect(entry.faces[0]).toMatchObject({ status: "done", seed: expect.any(Number), remoteId: expect.any(String) });
      expect(finals).toContain(entry.final.file);
      const cmp = await compareOutsideInside(join(folder, file), join(folder, POLISHED_DIR, entry.after.file), entry.faces);
      expect(cmp.outsideDiffs).toBe(0);
      expect(cmp.insideDiffs).toBeGreaterThan(0);
    }
    // One face pass per kept image, and the generation's two images: nothing else was paid for.
    expect(predictionCreates(emu).filter((c) => c.input.mask)).toHaveLength(2);
    expect(predictionCreates(emu).filter((c) => !c.input.mask)).toHaveLength(2);
  });

  it("score: false makes the images and the gallery without scoring", { timeout: TEST_TIMEOUT_MS }, async () => {
    await emulator(false);
    await writeText(join(dir, "noscore.yaml"), batchFile("noscore-out", "{preset: corporate, count: 2, score: false}"));
    const r = await batch("noscore.yaml");
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    const folder = join(dir, "noscore-out", "jane", "corporate");
    const entries = Object.values((await manifestOf(folder)).images) as Json[];
    expect(entries.map((e) => [e.status, e.score])).toEqual([
      ["done", undefined],
      ["done", undefined],
    ]);
    expect(r.json().find((l) => l.type === "curate.done")).toMatchObject({ scored: 0 });
    expect(await readdir(folder)).toContain("index.html");
  });

  it("a combination gen refuses is refused the same way (exit 2), before anything runs", { timeout: TEST_TIMEOUT_MS }, async () => {
    await emulator(false);
    await writeText(join(dir, "bad.yaml"), batchFile("bad-out", "{preset: corporate, count: 2, keepBest: 1}", "    score: false\n"));
    const r = await batch("bad.yaml");
    expect(r.code).toBe(2);
    const s = r.json().at(-1) as Json;
    expect(s.error.code).toBe("E_GEN_FLAGS");
    const gen = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "jane", "--keep-best", "1", "--no-score"], { cwd: dir, env, signal: abort.signal });
    expect(gen.code).toBe(2);
    const genMessage = (gen.json().at(-1) as Json).error.message as string;
    expect(s.error.message).toBe(`people[jane] preset "corporate": ${genMessage}`);
    expect(predictionCreates(emu)).toEqual([]);
  });
});
