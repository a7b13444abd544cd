/**
 * `headshot batch` in-process: the free test mode end to end (check, placeholder training, gen,
 * scoring, gallery), idempotent re-runs, a changed preset or selfie set, the budget, located file
 * errors, and exit codes. Paid runs go to the Replicate emulator; its request log proves that
 * nothing is paid twice.
 */
import { cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { defaultFaults } from "../support/replicate-emulator/faults.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { BRAND_PRESET, writeSelfies, writeText } from "../support/batch/workspace.js";
import { astronaut, writeAll } from "../support/selfies/build.js";
import { addTrainedModel, predictionCreates, registerIdentity } from "../unit/generation/fixtures.js";

// Parsed JSON lines, read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let emu: ReplicateEmulator;

const TEAM = `version: 1
out: ./headshots
concurrency: 4
defaults:
  presets: [./presets/brand.yaml, {preset: linkedin, count: 2}]
  count: 3
  keepBest: 2
people:
  - name: jane
    selfies: ./selfies/jane
    class: woman
  - name: raj
    selfies: ./selfies/raj
    class: man
`;

beforeAll(async () => {
  ws = await tempWorkspace("headshot-batch-");
  emu = await startReplicateEmulator({ latencyMs: 120 });
  await writeSelfies(join(ws.dir, "selfies", "jane"));
  await cp(join(ws.dir, "selfies", "jane"), join(ws.dir, "selfies", "raj"), { recursive: true });
  await writeText(join(ws.dir, "presets", "brand.yaml"), BRAND_PRESET);
  await writeText(join(ws.dir, "team.yaml"), TEAM);
});
afterAll(async () => {
  await emu.close();
  await ws.cleanup();
});

const batch = (args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: ws.dir, env: { ...ws.env, ...env } });
const summary = (lines: Json[]) => lines.at(-1) as Json;
const manifest = async (dir: string): Promise<Json> => JSON.parse(await readFile(join(dir, "manifest.json"), "utf8")) as Json;

describe("headshot batch --backend test (free trial)", () => {
  // Rehearsal previews are scored with the real face models: slow on a loaded 2-core machine.
  it("runs check, placeholder training, gen, scoring and the gallery, all marked as placeholders", { timeout: 300_000 }, async () => {
    const r = await batch(["--json", "batch", "team.yaml", "--backend", "test"]);
    expect(r.code, r.stdout.slice(-2000)).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.json();
    const s = summary(lines);
    expect(s).toMatchObject({ type: "summary", ok: true, placeholder: true });
    expect(s.people.map((p: Json) => [p.name, p.status, p.placeholder, p.images, p.expected])).toEqual([
      ["jane", "done", true, 5, 5],
      ["raj", "done", true, 5, 5],
    ]);
    expect(lines.filter((l) => l.type === "identity.trained").map((l) => l.placeholder)).toEqual([true, true]);
    expect(lines.some((l) => l.type === "gen.image.done" && l.person === "jane" && l.placeholder === true)).toBe(true);
    // Placeholder identities live apart from real ones and say what they are.
    expect(await readdir(join(ws.home, "test-mode", "identities"))).toEqual(["jane", "raj"]);
    await expect(readdir(join(ws.home, "identities"))).rejects.toThrow();
    const identity = JSON.parse(await readFile(join(ws.home, "test-mode", "identities", "jane", "identity.json"), "utf8")) as Json;
    expect(identity).toMatchObject({ placeholder: true, backend: "test" });
    for (const person of ["jane", "raj"]) {
      const m = await manifest(join(ws.dir, "headshots", person, "brand"));
      expect(m.batch).toMatchObject({ placeholder: true, backend: "test" });
      expect(Object.values(m.images).every((e) => (e as Json).status === "done" && (e as Json).placeholder === true)).toBe(true);
      // A rehearsal: every preview is drawn from the person's selfies (or a planted stranger) and
      // scored for real, so the faces are found and some previews are kept (issue 15).
      const entries = Object.values(m.images) as Json[];
      expect(entries.every((e) => typeof e.rehearsal?.plant === "string" && e.rehearsal.source === `identity ${person}`)).toBe(true);
      const sidecars = await Promise.all(entries.map(async (e) => JSON.parse(await readFile(join(ws.dir, "headshots", person, "brand", e.sidecar as string), "utf8")) as Json));
      expect(sidecars.every((c) => c.score?.faces === 1 || c.rehearsal?.plant === "small")).toBe(true);
      expect(sidecars.filter((c) => c.kept === true).length).toBeGreaterThan(0);
      const files = await readdir(join(ws.dir, "headshots", person, "linkedin"));
      expect(files.filter((f) => f.endsWith(".png"))).toHaveLength(3); // 2 images + the contact sheet
      expect(files).toContain("index.html");
    }
  });

  it("does nothing the second time, and says PLACEHOLDER in capitals", { timeout: 180_000 }, async () => {
    const before = await manifest(join(ws.dir, "headshots", "jane", "brand"));
    const r = await batch(["batch", "team.yaml", "--backend", "test"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("jane: brand: all 3 images already there");
    expect(r.stderr).toContain("identity jane ready (PLACEHOLDER)");
    expect(r.stdout).toContain("PLACEHOLDER");
    const after = await manifest(join(ws.dir, "headshots", "jane", "brand"));
    expect(after.images).toEqual(before.images);
  });

  it("regenerates only the preset whose content changed, keeping the old images aside", async () => {
    await writeFile(join(ws.dir, "presets", "brand.yaml"), BRAND_PRESET.replace("smooth teal", "smooth burgundy"));
    const r = await batch(["--json", "batch", "team.yaml", "--backend", "test", "--only", "jane"]);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const lines = r.json();
    const superseded = lines.filter((l) => l.type === "preset.superseded");
    expect(superseded.map((l) => [l.person, l.preset])).toEqual([["jane", "brand"]]);
    expect(lines.filter((l) => l.type === "preset.skipped").map((l) => l.preset)).toEqual(["linkedin"]);
    const folders = (await readdir(join(ws.dir, "headshots", "jane"))).sort();
    expect(folders).toHaveLength(3);
    expect(folders.find((f) => f.startsWith("brand.superseded-"))).toMatch(/^brand\.superseded-[0-9a-f]{8}$/);
    const fresh = await manifest(join(ws.dir, "headshots", "jane", "brand"));
    expect(Object.values(fresh.images).map((e) => (e as Json).prompt).join(" ")).toContain("burgundy");
    // raj was not part of this run: untouched.
    expect((await readdir(join(ws.dir, "headshots", "raj"))).sort()).toEqual(["brand", "linkedin"]);
  });

  it("retrains a person whose selfies changed and keeps the old identity's folder", async () => {
    await writeAll(join(ws.dir, "selfies", "raj"), { "a-extra.jpg": await astronaut({ region: { left: 30, top: 5, width: 440, height: 470 }, size: 1090 }) });
    const r = await batch(["--json", "batch", "team.yaml", "--backend", "test", "--only", "raj"]);
    expect(r.code, r.stdout.slice(-1500)).toBe(0);
    const lines = r.json();
    const changed = lines.find((l) => l.type === "identity.selfies-changed");
    expect(changed).toMatchObject({ person: "raj", identity: "raj" });
    expect(lines.some((l) => l.type === "identity.trained" && l.person === "raj")).toBe(true);
    expect(await readdir(join(ws.home, "test-mode", "identities-superseded"))).toEqual([expect.stringMatching(/^raj-[0-9a-f]{8}$/)]);
    // A new identity means new images: both presets were superseded and made again.
    expect(lines.filter((l) => l.type === "preset.superseded").map((l) => l.preset).sort()).toEqual(["brand", "linkedin"]);
  });
});

describe("headshot batch: interrupted", () => {
  it("Ctrl-C ends with exit 130, what is done kept, and the same command resumes", { timeout: 180_000 }, async () => {
    await writeText(join(ws.dir, "slow.yaml"), "out: ./slow\nconcurrency: 1\ndefaults:\n  presets: [{preset: linkedin, count: 6}]\npeople:\n  - name: jane\n    selfies: ./selfies/jane\n");
    const controller = new AbortController();
    const env = { ...ws.env, HEADSHOT_TEST_DELAY_MS: "150" };
    const running = runCli(["--json", "batch", "slow.yaml", "--backend", "test"], { cwd: ws.dir, env, signal: controller.signal });
    // Stop once the first images have landed (the selfie check before them can take a while on a
    // loaded 2-core machine, so wait generously rather than interrupting a run that never began).
    const started = Date.now();
    let landed = 0;
    while (Date.now() - started < 90_000) {
      await new Promise((r) => setTimeout(r, 50));
      const files = await readdir(join(ws.dir, "slow", "jane", "linkedin")).catch(() => [] as string[]);
      landed = files.filter((f) => f.endsWith(".png") && f !== "contact-sheet.png").length;
      if (landed >= 2) break;
    }
    controller.abort();
    expect(landed, "images landed before Ctrl-C").toBeGreaterThanOrEqual(2);
    const r = await running;
    expect(r.code, r.stdout.slice(-1500)).toBe(130);
    const s = summary(r.json());
    expect(s.error.code).toBe("E_INTERRUPTED");
    expect(s.error.hint).toContain("headshot batch slow.yaml --backend test");
    expect(s.error.summary.people[0]).toMatchObject({ name: "jane", status: "interrupted" });
    const again = await runCli(["--json", "batch", "slow.yaml", "--backend", "test"], { cwd: ws.dir, env: ws.env });
    expect(again.code).toBe(0);
    const opened = again.json().find((l) => l.type === "gen.batch.opened");
    expect(opened).toMatchObject({ resumed: true });
    expect(opened?.remaining).toBeLessThan(6);
    expect(summary(again.json()).people[0]).toMatchObject({ images: 6, expected: 6 });
  });
});

describe("headshot batch: file and setup errors (exit 2, nothing run)", () => {
  it("points at the line of a bad key", async () => {
    await writeText(join(ws.dir, "bad.yaml"), "people:\n  - name: ann\n    selfies: ./selfies/jane\n    keepbest: 3\n");
    const r = await batch(["batch", "bad.yaml", "--backend", "test"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:4:5/);
    expect(r.stderr).toContain("keepBest");
  });

  it("lists every missing selfie folder, identity and preset before starting", async () => {
    await writeText(join(ws.dir, "missing.yaml"), "defaults:\n  presets: [corporate]\npeople:\n  - name: ann\n    selfies: ./nope\n  - name: bob\n    identity: bob\n  - name: cy\n    selfies: ./selfies/jane\n    presets: [./presets/none.yaml]\n");
    const r = await batch(["--json", "batch", "missing.yaml", "--backend", "test"]);
    expect(r.code).toBe(2);
    const s = summary(r.json());
    expect(s).toMatchObject({ ok: false, error: { code: "E_BATCH_INVALID" } });
    expect(s.error.details.join("\n")).toMatch(/ann\]: selfies folder not found[\s\S]*bob\]: no identity named "bob"[\s\S]*cy\] preset "\.\/presets\/none\.yaml"/);
    expect(r.json().filter((l) => l.type !== "summary")).toEqual([]);
  });

  it("without a token, says so and offers the free test mode", async () => {
    const r = await batch(["batch", "team.yaml"], { REPLICATE_API_TOKEN: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("REPLICATE_API_TOKEN");
    expect(r.stderr).toContain("--backend test");
  });

  it("--only with an unknown name suggests the closest", async () => {
    const r = await batch(["batch", "team.yaml", "--backend", "test", "--only", "janee"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("did you mean --only jane?");
  });

  it("a rejected selfie set is exit 6 and the others still finish", async () => {
    await writeAll(join(ws.dir, "selfies", "solo"), { "only.jpg": await astronaut({ size: 1100 }) });
    await writeText(join(ws.dir, "solo.yaml"), "defaults:\n  presets: [{preset: linkedin, count: 1}]\npeople:\n  - name: solo\n    selfies: ./selfies/solo\n  - name: jane\n    selfies: ./selfies/jane\n");
    const r = await batch(["--json", "batch", "solo.yaml", "--backend", "test"]);
    expect(r.code).toBe(6);
    const s = summary(r.json());
    const people = s.error.summary.people as Json[];
    expect(people.map((p) => [p.name, p.status])).toEqual([
      ["solo", "rejected"],
      ["jane", "done"],
    ]);
    expect(people[0]?.failures[0].code).toBe("E_SELFIES_REJECTED");
    expect(people[0]?.resume).toContain("headshot batch solo.yaml --only solo --backend test");
  });
});

describe("headshot batch on Replicate (emulator)", () => {
  it("stops before the budget is exceeded, then finishes without paying twice once it is raised", async () => {
    Object.assign(emu.faults, defaultFaults());
    emu.clearLog();
    const home = join(ws.dir, "paid-home");
    const env = { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
    for (const name of ["ann", "bob"]) await registerIdentity(home, name, { backend: "replicate", replicate: { version: addTrainedModel(emu, `face-${name}`) } });
    // 4 images at $0.032 = $0.128 per person: $0.20 pays for one person, not two.
    const file = (budget: number) => `out: ./paid\nbudget: ${budget}\nconcurrency: 3\ndefaults:\n  presets: [{preset: linkedin, count: 4}]\npeople:\n  - name: ann\n    identity: ann\n  - name: bob\n    identity: bob\n`;
    await writeText(join(ws.dir, "paid.yaml"), file(0.2));
    const first = await runCli(["--json", "batch", "paid.yaml"], { cwd: ws.dir, env });
    expect(first.code, first.stdout.slice(-1500)).toBe(5);
    const people = summary(first.json()).error.summary.people as Json[];
    const stopped = people.find((p) => p.status === "stopped");
    const done = people.find((p) => p.status === "done");
    expect(stopped).toMatchObject({ stopped: "budget", images: 0 });
    expect(stopped?.resume).toContain("raise `budget:`");
    expect(done).toMatchObject({ images: 4, spentUsd: 0.128 });
    expect(predictionCreates(emu)).toHaveLength(4);

    await writeText(join(ws.dir, "paid.yaml"), file(0.3));
    const second = await runCli(["--json", "batch", "paid.yaml"], { cwd: ws.dir, env });
    expect(second.code, second.stdout.slice(-1500)).toBe(0);
    const s = summary(second.json());
    expect(s.spentUsd).toBeCloseTo(0.256, 3);
    expect(s.people.map((p: Json) => p.images)).toEqual([4, 4]);
    const creates = predictionCreates(emu);
    expect(creates).toHaveLength(8);
    expect(new Set(creates.map((c) => JSON.stringify(c.input))).size).toBe(8);
  });

  it("a refused token is exit 4", async () => {
    const home = join(ws.dir, "paid-home");
    const r = await runCli(["--json", "batch", "paid.yaml", "--only", "ann"], { cwd: ws.dir, env: { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: "r8_wrongToken0123456789abcdefABCDEFGHIJ", REPLICATE_BASE_URL: emu.baseUrl } });
    // ann is complete: nothing to create, so nothing is refused.
    expect(r.code).toBe(0);
    await rm(join(ws.dir, "paid", "ann"), { recursive: true, force: true });
    const again = await runCli(["--json", "batch", "paid.yaml", "--only", "ann"], { cwd: ws.dir, env: { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: "r8_wrongToken0123456789abcdefABCDEFGHIJ", REPLICATE_BASE_URL: emu.baseUrl } });
    expect(again.code, again.stdout.slice(-1000)).toBe(4);
    expect(summary(again.json()).error.summary.people[0].failures[0].code).toMatch(/E_REPLICATE|AUTH|TOKEN/);
  });
});
