/**
 * Issue 14, S3: one run per output folder. The built binary against the Replicate emulator:
 * a second `gen` into a folder a live run holds exits 2 at once naming the pid and the folder and
 * sends nothing; after a `kill -9` the next run takes the dead run's lock over with a notice and
 * finishes without creating any prediction twice. Synchronised on the runs' own JSON events, not
 * on time. Each test has its own emulator and folder.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { addTrainedModel, registerIdentity } from "../unit/generation/fixtures.js";
import { BIN, onJsonLines, type Json } from "../support/cli-binary.js";

let dir: string;
let emu: ReplicateEmulator;
let env: Record<string, string>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-lock-e2e-"));
  emu = await startReplicateEmulator({ latencyMs: 300, preferWaitUnitMs: 30, seed: 14 });
  const home = join(dir, "home");
  await registerIdentity(home, "kay", { backend: "replicate", replicate: { version: addTrainedModel(emu, "face-lock") } });
  env = { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
});
afterEach(async () => {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

const COUNT = 6;
const args = (out: string) => ["--json", "gen", "--preset", "corporate", "--identity", "kay", "--count", String(COUNT), "--seed", "500", "--concurrency", "2", "--out", out];

/** Starts the CLI; `until` resolves once a JSON line satisfies it (or the run ends). */
function start(argv: string[]): { child: ResultPromise; lines: Json[]; until: (test: (l: Json) => boolean) => Promise<void> } {
  const child = execa("node", [BIN, ...argv], { cwd: dir, env, extendEnv: true, reject: false, buffer: { stdout: false, stderr: true }, timeout: 90_000 });
  const lines: Json[] = [];
  const waiters: Array<{ test: (l: Json) => boolean; resolve: () => void }> = [];
  onJsonLines(child.stdout, (line) => {
    lines.push(line);
    for (const w of waiters.filter((x) => x.test(line))) w.resolve();
  });
  const until = (test: (l: Json) => boolean) =>
    new Promise<void>((resolve) => {
      if (lines.some(test)) return resolve();
      waiters.push({ test, resolve });
      void child.finally(resolve);
    });
  return { child, lines, until };
}

const creates = () => emu.requests.filter((r) => r.method === "POST" && r.path === "/v1/predictions");

describe("S3: one run per output folder", () => {
  it("a second gen into a folder a live run holds exits 2 at once, naming the pid and the folder, and sends nothing", { timeout: 120_000 }, async () => {
    emu.setPredictionDuration(1_500);
    const out = join(dir, "out");
    const first = start(args(out));
    await first.until((l) => l.type === "image.created");
    const second = await execa("node", [BIN, ...args(out)], { cwd: dir, env, extendEnv: true, reject: false, timeout: 60_000 });
    expect(second.exitCode).toBe(2);
    const summary = JSON.parse(second.stdout.trim().split("\n").at(-1) ?? "{}") as Json;
    expect(summary).toMatchObject({ type: "summary", ok: false, error: { code: "E_FOLDER_LOCKED", exitCode: 2 } });
    expect(summary.error.message).toContain(`pid ${first.child.pid}`);
    expect(summary.error.message).toContain(out);
    // The second run wrote no line but its summary; below, the server saw one create per image.
    expect(second.stdout.trim().split("\n")).toHaveLength(1);
    const result = await first.child;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(creates()).toHaveLength(COUNT);
    expect(new Set(creates().map((r) => (r.body as Json).input.seed)).size).toBe(COUNT);
    await expect(readFile(join(out, ".headshot.lock"))).rejects.toThrow();
  });

  it("a kill -9'd run's lock is taken over with a notice; nothing is created twice", { timeout: 120_000 }, async () => {
    emu.setPredictionDuration(1_000);
    const out = join(dir, "out");
    const first = start(args(out));
    await first.until((l) => l.type === "image.created");
    const lock = JSON.parse(await readFile(join(out, ".headshot.lock"), "utf8")) as Json;
    expect(lock).toMatchObject({ pid: first.child.pid, host: hostname() });
    first.child.kill("SIGKILL");
    await first.child;
    const again = start(args(out));
    const result = await again.child;
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(again.lines.find((l) => l.type === "lock.takeover")).toMatchObject({ folder: out, previous: { pid: first.child.pid } });
    expect(again.lines.at(-1)).toMatchObject({ type: "summary", ok: true, done: COUNT });
    const seeds = creates().map((r) => (r.body as Json).input.seed as number);
    expect(new Set(seeds).size).toBe(seeds.length);
  });

  it("a lock whose pid now belongs to another process (pid reuse: other start time) is stale", { timeout: 120_000 }, async () => {
    const out = join(dir, "out");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(out, { recursive: true });
    // pid 1 is alive, but it is not the process that took this lock (its start time differs).
    await writeFile(join(out, ".headshot.lock"), JSON.stringify({ pid: 1, host: hostname(), startTicks: "1", startedAt: "2026-01-01T00:00:00.000Z", command: "headshot gen" }));
    const r = await execa("node", [BIN, ...args(out).map((a) => (a === String(COUNT) ? "1" : a))], { cwd: dir, env, extendEnv: true, reject: false, timeout: 60_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('"type":"lock.takeover"');
  });
});
