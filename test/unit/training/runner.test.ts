/**
 * runAiToolkit's Ctrl-C relay with a plain Python child: when the terminal already delivered the
 * SIGINT to the child (same process group), ours waits for the grace period instead of
 * interrupting the child's cleanup a second time.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runAiToolkit } from "../../../src/training/ai-toolkit/runner.js";

const CHILD = [
  "-c",
  "import sys, time\nprint('ready', flush=True)\ntry:\n    time.sleep(60)\nexcept KeyboardInterrupt:\n    print('Job stopped', flush=True)\n    sys.exit(0)\n",
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-runner-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function interrupt(reason: string, grace: (reason: unknown) => number) {
  const controller = new AbortController();
  let abortedAt = 0;
  const outcome = await runAiToolkit({
    file: "python3",
    args: CHILD,
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", PYTHONUNBUFFERED: "1" },
    jobName: "jane",
    samplesDir: join(dir, "samples"),
    signal: controller.signal,
    interruptGraceMs: grace,
    onEvent: (e) => {
      if (e.type === "log" && e.line === "ready") {
        abortedAt = Date.now();
        controller.abort(new Error(reason));
      }
    },
  });
  return { outcome, elapsed: Date.now() - abortedAt };
}

it("sends SIGINT after the grace period and reports an interrupted run (child exit 0)", async () => {
  const { outcome, elapsed } = await interrupt("received SIGINT", (r) => (/SIGINT/.test((r as Error).message) ? 600 : 0));
  expect(outcome).toMatchObject({ interrupted: true, exitCode: 0 });
  expect(outcome.lines).toContain("Job stopped");
  expect(elapsed).toBeGreaterThanOrEqual(550);
});

it("sends SIGINT at once when the child did not get the terminal's", async () => {
  const { outcome } = await interrupt("received SIGTERM", (r) => (/SIGINT/.test((r as Error).message) ? 60_000 : 0));
  expect(outcome).toMatchObject({ interrupted: true, exitCode: 0 });
  expect(outcome.lines).toContain("Job stopped");
});

it("reports a missing interpreter as a spawn error", async () => {
  const outcome = await runAiToolkit({
    file: join(dir, "no-such-python"),
    args: [],
    cwd: dir,
    env: {},
    jobName: "jane",
    samplesDir: join(dir, "samples"),
    signal: new AbortController().signal,
    onEvent: () => undefined,
  });
  expect(outcome.spawnError).toContain("not found");
});
