/**
 * A kill between a download's rename into place and its manifest record leaves a complete raw
 * file the manifest does not know. The re-run keeps it, even after Replicate has deleted the
 * output (one hour: https://replicate.com/docs/reference/http#predictions.get), instead of paying
 * for the image again. The kill is made at that exact moment by writing the file the download
 * would have written, after a Ctrl-C that left both predictions `created`.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { addTrainedModel, predictionCreates, registerIdentity } from "../unit/generation/fixtures.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
let emu: ReplicateEmulator;
let ws: Awaited<ReturnType<typeof tempWorkspace>>;

beforeAll(async () => {
  // wait=10 holds 10 x 20 ms: the create answers while the prediction is still running.
  emu = await startReplicateEmulator({ latencyMs: 1500, preferWaitUnitMs: 20, seed: 11 });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(async () => {
  ws = await tempWorkspace("headshot-gen-unrecorded-");
  emu.setRetention(3_600_000);
});
afterEach(async () => {
  await ws.cleanup();
});

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 10));
  }
}

it("keeps a raw download the killed run did not record, though its output has expired, and pays only for the other image", async () => {
  emu.setPredictionDuration(800, 0.1);
  const version = addTrainedModel(emu, "face-lora-unrecorded");
  await registerIdentity(ws.home, "un", { backend: "replicate", replicate: { version } });
  const env = { ...ws.env, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
  const out = join(ws.dir, "out");
  const args = ["--json", "gen", "--preset", "corporate", "--identity", "un", "--count", "2", "--seed", "900", "--out", out];
  const controller = new AbortController();
  const running = runCli(args, { cwd: ws.dir, env, signal: controller.signal });
  await until(() => emu.requests.filter((r) => r.createdId && r.status !== undefined).length === 2);
  await new Promise((r) => setTimeout(r, 200));
  controller.abort();
  expect((await running).code).toBe(130);
  const before = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Json;
  const entries = Object.values(before.images) as Json[];
  expect(entries.map((e) => e.status)).toEqual(["created", "created"]);

  // What the first download would have left: its image, complete, under its final name.
  const kept = entries[0]!;
  const raw = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 120, b: 150 } } }).png().toBuffer();
  await mkdir(join(out, ".headshot-raw"), { recursive: true });
  await writeFile(join(out, ".headshot-raw", `${kept.key}-a1.png`), raw);

  // Both predictions finish, and Replicate deletes their outputs.
  await new Promise((r) => setTimeout(r, 1800));
  emu.setRetention(700);
  emu.setPredictionDuration(100, 0.1);
  emu.clearLog();
  const second = await runCli(args, { cwd: ws.dir, env });
  expect(second.code, second.stdout).toBe(0);
  const retries = (second.json() as Json[]).filter((l) => l.type === "image.retry");
  expect(retries.map((r) => [r.key, r.kind])).toEqual([[entries[1]!.key, "expired"]]);
  expect(predictionCreates(emu)).toHaveLength(1);
  const after = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Json;
  const entry = after.images[kept.key] as Json;
  expect(entry).toMatchObject({ status: "done", predictionId: kept.predictionId });
  // The finished image is made from that file (the emulator's own outputs are 1 MP).
  expect(entry).toMatchObject({ width: 64, height: 64, costUsd: expect.any(Number) });
  const { dominant } = await sharp(join(out, entry.file)).stats();
  expect(dominant).toMatchObject({ r: expect.closeTo(90, -1.5), g: expect.closeTo(120, -1.5), b: expect.closeTo(150, -1.5) });
});
