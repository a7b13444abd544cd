/**
 * Ctrl-C while a Replicate training runs (in-process, the AbortSignal is what run.ts fires on
 * SIGINT): interactive -> ask whether to cancel remotely; CI -> keep it running unless
 * --cancel-on-interrupt; exit 130 either way; re-running re-attaches without paying again.
 * Also: weights that expired before the re-run.
 */
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { defaultFaults } from "../support/replicate-emulator/faults.js";
import type { ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli, type CliResult } from "../support/run-cli.js";
import { replicateTrainWorkspace, type ReplicateTrainWorkspace } from "../support/replicate-train-workspace.js";
import { remoteState, waitUntil } from "../unit/training-replicate/support.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let ws: ReplicateTrainWorkspace["ws"];
let emu: ReplicateEmulator;
let env: Record<string, string>;

beforeAll(async () => {
  ({ ws, emu, env } = await replicateTrainWorkspace("headshot-train-rep-int-", { trainingMs: 2500, seed: 11 }));
});
afterAll(async () => {
  await emu.close();
  await ws.cleanup();
});
beforeEach(() => {
  Object.assign(emu.faults, defaultFaults());
  emu.setRetention(3_600_000);
  emu.clearLog();
});

const paidCreates = () => emu.count("POST", /\/trainings$/);
const cancels = () => emu.count("POST", /^\/trainings\/[^/]+\/cancel$/);

/** Runs train and "presses Ctrl-C" once the training id is persisted. */
async function trainAndInterrupt(name: string, options: { json?: boolean; extra?: string[]; tty?: boolean; confirm?: (q: string) => Promise<boolean> } = {}): Promise<CliResult> {
  const controller = new AbortController();
  const run = runCli([...(options.json === false ? [] : ["--json"]), "train", "./selfies", "--name", name, "--backend", "replicate", ...(options.extra ?? [])], {
    cwd: ws.dir,
    env,
    signal: controller.signal,
    ...(options.tty ? { tty: true } : {}),
    ...(options.confirm ? { confirm: options.confirm } : {}),
  });
  // Synchronised on the persisted id, not on time: the selfie check before it is slow under load,
  // so the wait is bounded only by the test's timeout and ends early if the run ends first.
  let ended = false;
  run.then(
    () => (ended = true),
    () => (ended = true),
  );
  try {
    await waitUntil(async () => ended || Boolean((await remoteState(ws.home, name))?.training?.id), 150_000);
  } finally {
    controller.abort(new Error("received SIGINT"));
  }
  return run;
}

const train = (name: string, extra: string[] = []) => runCli(["--json", "train", "./selfies", "--name", name, "--backend", "replicate", ...extra], { cwd: ws.dir, env });
const errorOf = (r: CliResult): Json => (r.json().at(-1) as Json).error as Json;

describe("Ctrl-C during a Replicate training", { timeout: 180_000 }, () => {
  it("in CI: leaves it running, exits 130 with the resume command; --resume re-attaches without a second training", async () => {
    const r = await trainAndInterrupt("ci");
    expect(r.code).toBe(130);
    const error = errorOf(r);
    expect(error.message).toMatch(/keeps running on Replicate/);
    expect(error.hint).toMatch(/headshot train .*selfies --name ci --backend replicate --resume/);
    expect(error.details.join("\n")).toMatch(/--cancel-on-interrupt/);
    expect(cancels()).toBe(0);
    const id = ((await remoteState(ws.home, "ci")) as Json).training.id as string;
    const remote = (await (await fetch(`${emu.baseUrl}/trainings/${id}`, { headers: { Authorization: `Bearer ${emu.token}` } })).json()) as Json;
    expect(["starting", "processing"]).toContain(remote.status);

    const resumed = await train("ci", ["--resume"]);
    expect(resumed.code).toBe(0);
    expect(resumed.json().some((l) => l.type === "train.phase" && l.phase === "attach")).toBe(true);
    expect(paidCreates()).toBe(1);
    const identity = JSON.parse(await readFile(join(ws.home, "identities", "ci", "identity.json"), "utf8")) as Json;
    expect(identity.replicate.trainingId).toBe(id);
  });

  it("in CI with --cancel-on-interrupt: cancels the remote training", async () => {
    const r = await trainAndInterrupt("cancelci", { extra: ["--cancel-on-interrupt"] });
    expect(r.code).toBe(130);
    expect(errorOf(r).message).toMatch(/cancelled training .* on Replicate/);
    expect(cancels()).toBe(1);
    const state = (await remoteState(ws.home, "cancelci")) as Json;
    expect(state.status).toBe("canceled");
  });

  it("interactive, answer yes: asks, cancels remotely; a re-run reports it and needs --restart to pay again", async () => {
    const asked: string[] = [];
    const r = await trainAndInterrupt("askyes", { json: false, tty: true, confirm: (q) => Promise.resolve(asked.push(q) > 0) });
    expect(r.code).toBe(130);
    expect(asked).toEqual(["Cancel the remote training on Replicate? (it is billed while it runs)"]);
    expect(cancels()).toBe(1);
    expect(r.stderr).toMatch(/cancelled training/);
    expect(r.stderr).toMatch(/--restart/);

    const again = await train("askyes");
    expect(again.code).toBe(5);
    expect(errorOf(again)).toMatchObject({ code: "E_REPLICATE_TRAINING_CANCELED", hint: expect.stringMatching(/--restart/) });
    expect(paidCreates()).toBe(1);
  });

  it("interactive, answer no: keeps it running and prints how to re-attach", async () => {
    const r = await trainAndInterrupt("askno", { json: false, tty: true, confirm: () => Promise.resolve(false) });
    expect(r.code).toBe(130);
    expect(cancels()).toBe(0);
    expect(r.stderr).toMatch(/keeps running on Replicate/);
    expect(r.stderr).toMatch(/--name askno --backend replicate --resume/);
  });

  it("re-running with other inputs refuses to re-attach (it would register the wrong LoRA)", async () => {
    const r = await trainAndInterrupt("mism");
    expect(r.code).toBe(130);
    const other = await train("mism", ["--steps", "1200", "--lr", "1e-4"]);
    expect(other.code).toBe(2);
    const error = errorOf(other);
    expect(error.code).toBe("E_TRAIN_RESUME_MISMATCH");
    expect(error.details).toEqual(expect.arrayContaining(["steps was 1000, now 1200", "learning_rate was 0.0004, now 0.0001"]));
    expect(paidCreates()).toBe(1);
  });

  it("--resume with nothing started is a usage error", async () => {
    const r = await train("nothing", ["--resume"]);
    expect(r.code).toBe(2);
    expect(errorOf(r).code).toBe("E_NOTHING_TO_RESUME");
    expect(paidCreates()).toBe(0);
  });
});

describe("weights expired before the re-run", () => {
  it("registers the trained version without a local copy and says so", async () => {
    const r = await trainAndInterrupt("late");
    expect(r.code).toBe(130);
    const id = ((await remoteState(ws.home, "late")) as Json).training.id as string;
    emu.setRetention(100);
    // Trainings keep `output.version` (the version exists on the destination); only the tar is gone.
    await waitUntil(async () => {
      const t = (await (await fetch(`${emu.baseUrl}/trainings/${id}`, { headers: { Authorization: `Bearer ${emu.token}` } })).json()) as Json;
      return t.status === "succeeded" && (await fetch(t.output.weights as string)).status === 404;
    }, 15_000, 100);
    const again = await train("late");
    expect(again.code).toBe(0);
    const summary = again.json().at(-1) as Json;
    expect(summary.replicate).toMatchObject({ weightsExpired: true, version: expect.stringMatching(/^jane-doe\/headshot-late:[0-9a-f]{64}$/) });
    expect(summary.lora).toBe("");
    expect(paidCreates()).toBe(1);
  });
});
