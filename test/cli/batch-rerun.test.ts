/**
 * `headshot batch` re-runs against the Replicate emulator (its request log proves what was asked):
 * a preset whose every image is done goes straight to its outcome without the engine (no request,
 * no manifest write), while an image missing on disk is made again; and a per-run `budget:` in the
 * batch file (gen --budget) stops that preset run at its cap, priced from the price table.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { writeText } from "../support/batch/workspace.js";
import { addTrainedModel, predictionCreates, registerIdentity } from "../unit/generation/fixtures.js";

// Parsed JSON lines, read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** Under the test timeout: a test that runs too long stops its own CLI work (issue 14). */
const TEST_TIMEOUT_MS = 120_000;

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let emu: ReplicateEmulator;
let env: Record<string, string>;
let abort: AbortController;
let abortTimer: NodeJS.Timeout | undefined;

// Each test its own workspace, emulator and registered identity.
beforeEach(async () => {
  abort = new AbortController();
  abortTimer = setTimeout(() => abort.abort(), TEST_TIMEOUT_MS - 15_000);
  ws = await tempWorkspace("headshot-batch-rerun-");
  emu = await startReplicateEmulator({ latencyMs: 20 });
  await registerIdentity(ws.home, "ann", { backend: "replicate", replicate: { version: addTrainedModel(emu, "face-ann") } });
  env = { ...ws.env, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
});
afterEach(async () => {
  clearTimeout(abortTimer);
  abort.abort();
  await emu.close();
  await ws.cleanup();
});

const batch = (file: string) => runCli(["--json", "batch", file], { cwd: ws.dir, env, signal: abort.signal });
const summary = (r: { json(): Json[] }) => r.json().at(-1) as Json;
/** One person, one preset entry; `score: false` keeps the face models out of these tests. */
const batchFile = (entry: string) => `out: ./out\nconcurrency: 2\ndefaults:\n  score: false\npeople:\n  - name: ann\n    identity: ann\n    presets:\n      - ${entry}\n`;

describe("batch re-run of a finished preset", () => {
  it("goes straight to the same outcome: no request, no manifest write; a deleted image is made again", { timeout: TEST_TIMEOUT_MS }, async () => {
    await writeText(join(ws.dir, "team.yaml"), batchFile("{preset: linkedin, count: 2}"));
    const first = await batch("team.yaml");
    expect(first.code, first.stdout.slice(-1500)).toBe(0);
    expect(predictionCreates(emu)).toHaveLength(2);
    const folder = join(ws.dir, "out", "ann", "linkedin");
    const manifestBefore = await readFile(join(folder, "manifest.json"), "utf8");

    emu.clearLog();
    const again = await batch("team.yaml");
    expect(again.code, again.stdout.slice(-1500)).toBe(0);
    expect(again.json().filter((l) => l.type === "preset.skipped").map((l) => [l.person, l.preset, l.images])).toEqual([["ann", "linkedin", 2]]);
    expect(again.json().filter((l) => l.type === "preset.start" || String(l.type).startsWith("gen."))).toEqual([]);
    // The engine would have opened the manifest (a new `runs` line) and a Replicate session.
    expect(await readFile(join(folder, "manifest.json"), "utf8")).toBe(manifestBefore);
    expect(emu.requests).toEqual([]);
    const preset = (s: Json) => s.people[0].presets[0] as Json;
    expect(preset(summary(again))).toEqual(preset(summary(first)));
    expect(summary(again)).toMatchObject({ ok: true, people: [{ name: "ann", status: "done", images: 2, expected: 2 }] });

    // A finished image deleted by hand is not "done": the engine brings it back (from its
    // prediction, still there: nothing is paid twice), where a skip would have left it missing.
    const manifest = JSON.parse(manifestBefore) as Json;
    const gone = (Object.values(manifest.images) as Json[])[0]!;
    await rm(join(folder, gone.file as string));
    const third = await batch("team.yaml");
    expect(third.code, third.stdout.slice(-1500)).toBe(0);
    expect(third.json().find((l) => l.type === "preset.start")).toMatchObject({ remaining: 1, total: 2 });
    expect(third.json().some((l) => l.type === "preset.skipped")).toBe(false);
    expect(predictionCreates(emu)).toEqual([]);
    expect((await stat(join(folder, gone.file as string))).size).toBe(gone.bytes);
    expect(summary(third).people[0]).toMatchObject({ status: "done", images: 2, expected: 2 });
  });
});

describe("a per-run budget inside a batch", () => {
  it("stops each preset run at its own cap (person level, and an entry's own), priced from the price table", { timeout: TEST_TIMEOUT_MS }, async () => {
    // $0.032 an image (trained version, price table): 2 fit in $0.07, 1 in $0.04.
    const file = `out: ./out\nconcurrency: 3\ndefaults:\n  score: false\npeople:\n  - name: ann\n    identity: ann\n    budget: 0.07\n    presets:\n      - {preset: linkedin, count: 4}\n      - {preset: corporate, count: 3, budget: 0.04}\n`;
    await writeText(join(ws.dir, "capped.yaml"), file);
    const r = await batch("capped.yaml");
    expect(r.code, r.stdout.slice(-1500)).toBe(5);
    const creates = predictionCreates(emu);
    expect(creates).toHaveLength(3);
    const person = summary(r).error.summary.people[0] as Json;
    expect(person).toMatchObject({ name: "ann", status: "failed", images: 3, expected: 7, spentUsd: 0.096 });
    const [linkedin, corporate] = person.presets as Json[];
    expect(linkedin).toMatchObject({ preset: "linkedin", status: "failed", code: "E_GEN_BUDGET", images: 2, expected: 4, costUsd: 0.064 });
    expect(linkedin?.notes[0]).toMatch(/budget of \$0\.07/);
    expect(corporate).toMatchObject({ preset: "corporate", status: "failed", code: "E_GEN_BUDGET", images: 1, expected: 3, costUsd: 0.032 });
    expect(corporate?.notes[0]).toMatch(/budget of \$0\.04/);
    // What the caps left is planned, not failed: a re-run with them raised makes only that.
    const planned = async (preset: string) => (Object.values((JSON.parse(await readFile(join(ws.dir, "out", "ann", preset, "manifest.json"), "utf8")) as Json).images) as Json[]).filter((e) => e.status === "planned").length;
    expect([await planned("linkedin"), await planned("corporate")]).toEqual([2, 2]);
  });
});
