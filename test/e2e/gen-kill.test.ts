/**
 * `kill -9` at any moment never leaves a half-written image or loses (or re-buys) a result:
 * the built binary is started, SIGKILLed mid-batch several times, and re-run to completion.
 * The Replicate emulator runs in this test process; the child reaches it over HTTP.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import exifr from "exifr";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readXmpFields } from "../../src/generation/xmp.js";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { addTrainedModel, registerIdentity } from "../unit/generation/fixtures.js";
import { BIN, jsonLines, runAndKill as runAndKillIn, type Json } from "../support/cli-binary.js";

let dir: string;
let emu: ReplicateEmulator;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-e2e-gen-"));
  emu = await startReplicateEmulator({ latencyMs: 400, preferWaitUnitMs: 30, seed: 3 });
});
afterAll(async () => {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

/** Starts the CLI in the test's folder and SIGKILLs it once `shouldKill` says so. */
const runAndKill = (args: string[], env: Record<string, string>, shouldKill: (lines: Json[]) => boolean) => runAndKillIn(args, { cwd: dir, env }, shouldKill);

async function run(args: string[], env: Record<string, string>): Promise<{ code: number; lines: Json[]; stderr: string }> {
  const r = await execa("node", [BIN, ...args], { cwd: dir, env, extendEnv: true, reject: false });
  return { code: r.exitCode ?? -1, lines: jsonLines(r.stdout), stderr: String(r.stderr) };
}

/** Every invariant of a finished batch folder. */
async function assertConsistent(out: string, count: number, ext: string, placeholder: boolean): Promise<Json> {
  const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Json;
  const names = await readdir(out);
  expect(names.filter((n) => n.startsWith(".headshot-tmp-"))).toEqual([]);
  // contact-sheet.png is the gallery's (written next to the manifest after every batch), not an image of the batch.
  const images = names.filter((n) => n.endsWith(`.${ext}`) && n !== "contact-sheet.png");
  expect(images).toHaveLength(count);
  const entries = Object.values(manifest.images) as Json[];
  expect(entries).toHaveLength(count);
  expect(new Set(entries.map((e) => e.file))).toEqual(new Set(images));
  for (const entry of entries) {
    expect(entry.status).toBe("done");
    const bytes = await readFile(join(out, entry.file));
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(entry.sha256);
    const meta = await sharp(bytes).metadata();
    expect(meta.exif).toBeUndefined();
    const xmp = readXmpFields(meta.xmp?.toString("utf8") ?? "");
    expect(xmp.DigitalSourceType).toMatch(placeholder ? /\/algorithmicMedia$/ : /\/trainedAlgorithmicMedia$/);
    expect(xmp.seed).toBe(String(entry.seed));
    expect(xmp.description).toContain(entry.prompt);
    if (ext === "jpg") expect(await exifr.gps(bytes).catch(() => undefined)).toBeUndefined();
    const sidecar = JSON.parse(await readFile(join(out, entry.sidecar), "utf8")) as Json;
    expect(sidecar).toMatchObject({ file: entry.file, sha256: entry.sha256, seed: entry.seed, placeholder });
  }
  // A finished run leaves no raw folder behind (issue 15), not even an empty one.
  expect(await readdir(out)).not.toContain(".headshot-raw");
  return manifest;
}

describe("gen survives kill -9", () => {
  it("test backend: killed three times mid-batch, the re-run completes exactly the batch", async () => {
    const out = join(dir, "test-out");
    const env = { HEADSHOT_HOME: join(dir, "home"), HEADSHOT_TEST_DELAY_MS: "120" };
    const args = ["--json", "gen", "--preset", "corporate", "--count", "10", "--seed", "11", "--backend", "test", "--concurrency", "3", "--format", "jpg", "--out", out];
    for (const after of [2, 5, 8]) {
      const { killed } = await runAndKill(args, env, (lines) => lines.filter((l) => l.type === "image.done").length >= (after === 2 ? 2 : 1) && lines.some((l) => l.type === "image.started"));
      expect(killed).toBe(true);
      // Whatever is on disk now is complete: final images decode, temp files are only temp files.
      for (const name of (await readdir(out)).filter((n) => n.endsWith(".jpg"))) {
        await expect(sharp(join(out, name)).metadata()).resolves.toMatchObject({ format: "jpeg" });
      }
    }
    const final = await run(args, env);
    expect(final.code, final.stderr).toBe(0);
    expect(final.lines.at(-1)).toMatchObject({ type: "summary", ok: true, done: 10, placeholder: true });
    await assertConsistent(out, 10, "jpg", true);
  });

  it("replicate: killed while predictions are being created, running and downloaded; nothing is created twice", async () => {
    const home = join(dir, "home-rep");
    const version = addTrainedModel(emu, "face-lora-kill");
    await registerIdentity(home, "kay", { backend: "replicate", replicate: { version } });
    const env = { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
    const out = join(dir, "rep-out");
    const count = 12;
    const args = ["--json", "gen", "--preset", "corporate", "--identity", "kay", "--count", String(count), "--seed", "900", "--concurrency", "4", "--out", out];
    const kills: Array<(lines: Json[]) => boolean> = [
      // right after the first creates were sent (their answers may not have arrived)
      (lines) => lines.filter((l) => l.type === "image.started").length >= 3,
      // while predictions are running (ids recorded)
      (lines) => lines.filter((l) => l.type === "image.created").length >= 3,
      // after some images landed
      (lines) => lines.filter((l) => l.type === "image.done").length >= 2,
    ];
    for (const kill of kills) {
      const { killed } = await runAndKill(args, env, kill);
      expect(killed).toBe(true);
    }
    const final = await run(args, env);
    expect(final.code, final.stderr).toBe(0);
    expect(final.lines.at(-1)).toMatchObject({ type: "summary", ok: true, done: count, total: count });
    const manifest = await assertConsistent(out, count, "png", false);
    // The request log: exactly one prediction per image (per seed), and the manifest points at it.
    // Every create the server received (answered or cut off by the kill) made a job: count those.
    const serverJobs = emu.state.jobOrder.filter((j) => j.kind === "prediction" && (j.input.seed as number) >= 900 && (j.input.seed as number) < 900 + count);
    expect(serverJobs).toHaveLength(count);
    expect(new Set(serverJobs.map((j) => j.input.seed)).size).toBe(count);
    const posts = emu.requests.filter((r) => r.method === "POST" && r.path === "/v1/predictions" && (r.body as Json)?.input?.seed >= 900);
    expect(posts.length).toBe(count);
    for (const entry of Object.values(manifest.images) as Json[]) {
      expect(serverJobs.find((j) => j.input.seed === entry.seed)?.id).toBe(entry.predictionId);
    }
  });
});
