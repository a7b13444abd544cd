/**
 * `kill -9` at any moment of a Replicate polish (while files upload and creates are in flight,
 * while predictions run, after some images landed) and a re-run pays for nothing twice: the
 * emulator's own record of jobs shows exactly one face pass per face and one upscale per image,
 * and the manifest points at them. The built binary runs; the emulator runs in this process.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REAL_ESRGAN_VERSION } from "../../src/polish/upscale.js";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { POLISHED_DIR } from "../support/polish/workspace.js";
import { answerWith, modelAnswers, replicatePolishWorkspace } from "../support/polish/replicate.js";
import { BIN, jsonLines, runAndKill, type Json } from "../support/cli-binary.js";

let dir: string;
let env: Record<string, string>;
let emu: ReplicateEmulator;
let version: string;
beforeAll(async () => {
  // Predictions outlast the held create (wait=10 -> 300 ms here), so ids are recorded before waiting.
  emu = await startReplicateEmulator({ latencyMs: 2500, preferWaitUnitMs: 30, seed: 17, outputImage: answerWith(await modelAnswers()) });
  ({ dir, version, env } = await replicatePolishWorkspace("headshot-e2e-polish-", emu, "kill-face"));
}, 180_000);
afterAll(async () => {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe("polish survives kill -9", () => {
  it("killed three times; the re-run finishes with one prediction per face and per upscale", async () => {
    const args = ["--json", "polish", "out", "--identity", "jane", "--upscale", "2", "--seed", "3"];
    const kills: Array<(lines: Json[]) => boolean> = [
      // while the first create is in flight: the server makes the job, its id never reaches disk
      (lines) => lines.some((l) => l.type === "polish.face.creating"),
      // while a face prediction runs (its id recorded)
      (lines) => lines.some((l) => l.type === "polish.face.created"),
      // after the first image landed
      (lines) => lines.some((l) => l.type === "polish.image.done"),
    ];
    for (const kill of kills) expect((await runAndKill(args, { cwd: dir, env }, kill)).killed).toBe(true);
    const final = await execa("node", [BIN, ...args], { cwd: dir, env, extendEnv: true, reject: false });
    expect(final.exitCode, String(final.stderr)).toBe(0);
    const lines = jsonLines(final.stdout);
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: true, failed: 0, skipped: 1 });

    const manifest = JSON.parse(await readFile(join(dir, "out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    const jobs = emu.state.jobOrder.filter((j) => j.kind === "prediction");
    const faceJobs = jobs.filter((j) => j.version === version.split(":")[1]);
    const upscaleJobs = jobs.filter((j) => j.version === REAL_ESRGAN_VERSION);
    // The re-run after the first kill looked for the create it may have lost, by its inputs.
    expect(emu.requests.some((r) => r.method === "GET" && r.path === "/v1/predictions" && r.query.created_after !== undefined)).toBe(true);
    // Every create the server received made a job: exactly one per face and per image.
    expect(faceJobs).toHaveLength(2);
    expect(upscaleJobs).toHaveLength(2);
    for (const file of ["jane-01.jpg", "jane-02.jpg"]) {
      const entry = manifest.images[file] as Json;
      expect(entry.status).toBe("done");
      expect(faceJobs.map((j) => j.id)).toContain(entry.faces[0].remoteId);
      expect(upscaleJobs.map((j) => j.id)).toContain(entry.upscale.remoteId);
      await expect(sharp(join(dir, "out", POLISHED_DIR, entry.final.file)).metadata()).resolves.toMatchObject({ format: "png", width: 2048 });
    }
    expect((await readdir(join(dir, "out", POLISHED_DIR))).filter((n) => n.startsWith(".headshot-tmp-"))).toEqual([]);
  }, 300_000);
});
