/**
 * Issue 14, R5 and R1 (signals): the built binary with a stdout nobody reads (the pipe's read end
 * is closed before the child writes, as `| head` does, so every write is an EPIPE: no timing
 * involved) ends quietly; SIGTERM stops a command that is working and leaves it resumable.
 * Each test has its own folder; the runs are synchronised on their own output, not on time.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeSelfies } from "../support/batch/workspace.js";
import { fakeEnv, makeFakeCheckout } from "../support/fake-ai-toolkit/harness.js";
import { BIN, jsonLines, onJsonLines, type Json } from "../support/cli-binary.js";

let dir: string;
let env: Record<string, string>;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-pipes-"));
  env = { HEADSHOT_HOME: join(dir, "home") };
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI with its stdout pipe closed on our side from the start. */
async function withClosedStdout(args: string[], extraEnv: Record<string, string> = {}) {
  const child = execa("node", [BIN, ...args], { cwd: dir, env: { ...env, ...extraEnv }, extendEnv: true, reject: false, timeout: 90_000, buffer: { stdout: false, stderr: true } });
  child.stdout?.destroy();
  const r = await child;
  return { code: r.exitCode, stderr: String(r.stderr ?? ""), timedOut: r.timedOut };
}

describe("R5: a closed stdout ends the command quietly", () => {
  it.each([["--help"], ["presets", "list"], ["presets", "show", "linkedin"], ["--json", "presets", "list"]])("%s: exit 0, no stack", async (...args) => {
    const r = await withClosedStdout(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|Unexpected error|at .*\.js:\d+/);
  });

  it("check: no stack, no bug exit", { timeout: 120_000 }, async () => {
    await writeSelfies(join(dir, "selfies"));
    const r = await withClosedStdout(["check", "selfies"]);
    expect([0, 130]).toContain(r.code);
    expect(r.stderr).not.toMatch(/EPIPE|Unexpected error|this is a bug/);
  });

  it("gen in progress stops resumably; the re-run completes", { timeout: 120_000 }, async () => {
    const args = ["--json", "gen", "--preset", "corporate", "--count", "4", "--seed", "1", "--backend", "test", "--concurrency", "1", "--out", "out"];
    const r = await withClosedStdout(args, { HEADSHOT_TEST_DELAY_MS: "200" });
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).not.toMatch(/EPIPE|Unexpected error|this is a bug/);
    const again = await execa("node", [BIN, ...args], { cwd: dir, env, extendEnv: true, reject: false, timeout: 90_000 });
    expect(again.exitCode, again.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, "out", "manifest.json"), "utf8")) as { images: Record<string, { status: string }> };
    expect(Object.values(manifest.images).filter((e) => e.status === "done")).toHaveLength(4);
  });
});

/**
 * Runs the CLI, sends SIGTERM on the first JSON line `when` accepts, and checks that the command
 * stopped as interrupted: exit 130 (not killed, not timed out) with E_INTERRUPTED in the summary.
 */
async function terminatedOn(args: string[], runEnv: Record<string, string>, when: (line: Json) => boolean): Promise<void> {
  const child = execa("node", [BIN, ...args], { cwd: dir, env: runEnv, extendEnv: true, reject: false, timeout: 90_000 });
  let sent = false;
  onJsonLines(child.stdout, (line) => {
    if (!sent && when(line)) {
      sent = true;
      child.kill("SIGTERM");
    }
  });
  const r = await child;
  expect(sent).toBe(true);
  expect(r.timedOut).toBe(false);
  expect(r.exitCode, `${String(r.signal)} ${String(r.stderr)}`).toBe(130);
  expect(jsonLines(String(r.stdout)).at(-1)).toMatchObject({ type: "summary", error: { code: "E_INTERRUPTED" } });
}

describe("SIGTERM stops a working command (exit 130, resumable)", () => {
  it.each([
    ["check", ["--json", "check", "selfies"], "progress"],
    ["gen", ["--json", "gen", "--preset", "corporate", "--count", "20", "--seed", "1", "--backend", "test", "--concurrency", "1", "--out", "out"], "image.started"],
    ["batch", ["--json", "batch", "team.yaml", "--backend", "test"], "gen.image.started"],
  ])("%s", { timeout: 120_000 }, async (_name, args, firstEvent) => {
    await writeSelfies(join(dir, "selfies"));
    await writeFile(join(dir, "team.yaml"), "people:\n  - name: ann\n    selfies: ./selfies\n    presets: [{preset: corporate, count: 20}]\n");
    await terminatedOn(args, { ...env, HEADSHOT_TEST_DELAY_MS: "300" }, (line) => line.type === firstEvent);
  });
});

/** Processes still running whose command line mentions `text` (Linux /proc; none elsewhere). */
async function processesWith(text: string): Promise<string[]> {
  const pids = await readdir("/proc").catch(() => [] as string[]);
  const found: string[] = [];
  for (const pid of pids.filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(join("/proc", pid, "cmdline"), "utf8").catch(() => "");
    if (cmdline.includes(text)) found.push(`${pid}: ${cmdline.replaceAll("\0", " ")}`);
  }
  return found;
}

describe("SIGTERM stops train (exit 130): the trainer goes with it, the checkpoint is kept, the re-run resumes", () => {
  it("train --backend local (fake ai-toolkit)", { timeout: 180_000 }, async () => {
    await writeSelfies(join(dir, "selfies"));
    const toolkit = await makeFakeCheckout(dir);
    const trainEnv = { ...(fakeEnv() as Record<string, string>), HOME: dir, HEADSHOT_HOME: env.HEADSHOT_HOME as string, AI_TOOLKIT_DIR: toolkit };
    const args = ["--json", "train", "./selfies", "--name", "tia", "--backend", "local", "--steps", "20"];
    // The fake trainer sleeps (interruptibly) at step 13, so the signal lands mid-training.
    await terminatedOn(args, { ...trainEnv, FAKE_AITK_HANG_AT_STEP: "13" }, (line) => line.type === "train.checkpoint" && line.step === 10);
    // The CLI waited for its trainer: no run.py of this checkout is left running.
    expect(await processesWith(join(toolkit, "run.py"))).toEqual([]);

    const again = await execa("node", [BIN, ...args], { cwd: dir, env: trainEnv, extendEnv: true, reject: false, timeout: 90_000 });
    expect(again.exitCode, String(again.stderr)).toBe(0);
    const lines = jsonLines(String(again.stdout));
    expect(lines.find((l) => l.type === "train.start")).toMatchObject({ name: "tia", resumeFromStep: 10 });
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: true, name: "tia" });
  });
});
