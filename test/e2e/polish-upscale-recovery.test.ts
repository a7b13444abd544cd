/**
 * An upscale whose create was lost: the server made the Real-ESRGAN prediction but its answer never
 * came back (the emulator's `hangNextCreates`), and the process was then killed with `kill -9`. The
 * manifest holds the step as "creating" with its exact inputs and no id; the re-run looks the
 * prediction up by those inputs (GET /predictions?created_after=...), re-attaches to it, and pays for
 * no second upscale of that image. The built binary runs; the emulator runs in this process.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REAL_ESRGAN_VERSION } from "../../src/polish/upscale.js";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { POLISHED_DIR } from "../support/polish/workspace.js";
import { answerWith, modelAnswers, replicatePolishWorkspace } from "../support/polish/replicate.js";

const BIN = join(process.cwd(), "bin", "headshot.js");
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let dir: string;
let env: Record<string, string>;
let emu: ReplicateEmulator;
beforeAll(async () => {
  emu = await startReplicateEmulator({ latencyMs: 300, preferWaitUnitMs: 20, seed: 23, outputImage: answerWith(await modelAnswers()) });
  ({ dir, env } = await replicatePolishWorkspace("headshot-e2e-upscale-", emu, "lost-upscale"));
}, 180_000);
afterAll(async () => {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

const manifestPath = () => join(dir, "out", POLISHED_DIR, "polish-manifest.json");
const upscaleJobs = () => emu.state.jobOrder.filter((j) => j.kind === "prediction" && j.version === REAL_ESRGAN_VERSION);

async function readManifest(): Promise<Json | undefined> {
  try {
    return JSON.parse(await readFile(manifestPath(), "utf8")) as Json;
  } catch {
    return undefined; // not written yet, or mid-rename
  }
}

/** Polls until `ready` holds (no wall-clock assertion: the test's own timeout bounds it). */
async function until(ready: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (!(await ready())) {
    if (signal.aborted) throw new Error("gave up waiting");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a lost upscale create", () => {
  it("is found by its inputs on the re-run: one Real-ESRGAN prediction per image, none paid twice", async () => {
    const args = ["--json", "polish", "out", "--identity", "jane", "--seed", "5"];
    // The face passes first (no upscale): the upscale run below reuses them and only upscales.
    const first = await execa("node", [BIN, ...args], { cwd: dir, env, extendEnv: true, reject: false });
    expect(first.exitCode, String(first.stderr)).toBe(0);
    expect(upscaleJobs()).toHaveLength(0);

    // The next paid create (the first image's upscale) is committed on the server, never answered.
    emu.faults.hangNextCreates = 1;
    const child = execa("node", [BIN, ...args, "--upscale", "2"], { cwd: dir, env, extendEnv: true, reject: false });
    const stop = AbortSignal.timeout(120_000);
    await until(async () => {
      const entries = Object.values((await readManifest())?.images ?? {}) as Json[];
      return upscaleJobs().length === 1 && entries.some((e) => e.upscale?.status === "creating");
    }, stop);
    child.kill("SIGKILL");
    await child;

    const lost = upscaleJobs()[0]!;
    const before = (await readManifest())!;
    const stuck = (Object.values(before.images) as Json[]).find((e) => e.upscale?.status === "creating")!;
    expect(stuck.upscale.remoteId).toBeUndefined();
    expect(stuck.upscale.inputs).toEqual(lost.input);

    const rerun = await execa("node", [BIN, ...args, "--upscale", "2"], { cwd: dir, env, extendEnv: true, reject: false });
    expect(rerun.exitCode, String(rerun.stderr)).toBe(0);
    const summary = rerun.stdout.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Json).at(-1);
    expect(summary).toMatchObject({ type: "summary", ok: true, failed: 0 });
    expect(emu.requests.some((r) => r.method === "GET" && r.path === "/v1/predictions" && r.query.created_after !== undefined)).toBe(true);

    const after = (await readManifest())!;
    const jobs = upscaleJobs();
    expect(jobs).toHaveLength(2);
    expect(after.images[stuck.file].upscale).toMatchObject({ status: "done", remoteId: lost.id, scale: 2 });
    const other = (Object.values(after.images) as Json[]).find((e) => e.file !== stuck.file && e.status === "done" && e.faces.length);
    expect(other?.upscale).toMatchObject({ status: "done", scale: 2 });
    expect(jobs.map((j) => j.id)).toContain(other!.upscale.remoteId);
    expect(after.images[stuck.file].final).toMatchObject({ width: 2048, height: 2048 });
  }, 300_000);
});
