/**
 * `gen --backend replicate` in-process against the Replicate emulator: each backend's inputs
 * (checked from the request log), batches with concurrency, throttling, failed / filtered /
 * expired predictions, API errors before anything is paid, and resume without paying twice.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { readXmpFields } from "../../src/generation/xmp.js";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { addTrainedModel, predictionCreates, registerIdentity } from "../unit/generation/fixtures.js";
import { defaultFaults } from "../support/replicate-emulator/faults.js";

let emu: ReplicateEmulator;
let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startReplicateEmulator({ latencyMs: 150 });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(async () => {
  ws = await tempWorkspace("headshot-gen-rep-");
  env = { ...ws.env, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
  Object.assign(emu.faults, defaultFaults());
  emu.setPredictionDuration(150);
  emu.setRetention(3_600_000);
  emu.clearLog();
});
afterEach(async () => {
  await ws.cleanup();
});

// Parsed JSON from the CLI and the emulator, read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const summaryOf = (lines: Json[]) => lines.at(-1) as Json;

async function manifestOf(out: string): Promise<Json> {
  return JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
}

describe("gen on Replicate: backends and their inputs", () => {
  it("runs an identity trained on Replicate through its trained version (POST /predictions, replicate/flux-fine-tuner predict.py)", async () => {
    const version = addTrainedModel(emu, "face-lora-jane");
    await registerIdentity(ws.home, "jane", { backend: "replicate", replicate: { version } });
    const out = join(ws.dir, "out");
    const result = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "jane", "--count", "6", "--seed", "100", "--concurrency", "3", "--out", out], { cwd: ws.dir, env });
    expect(result.code, result.stdout).toBe(0);
    expect(summaryOf(result.json())).toMatchObject({ done: 6, made: 6, modelRef: version, placeholder: false });
    const creates = predictionCreates(emu);
    expect(creates).toHaveLength(6);
    for (const c of creates) {
      expect(c.path).toBe("/v1/predictions");
      expect(c.input).toMatchObject({ model: "dev", num_outputs: 1, guidance_scale: expect.any(Number), lora_scale: expect.any(Number), output_format: "png" });
      expect(c.input).not.toHaveProperty("guidance");
      expect(String(c.input.prompt)).toMatch(/^ohwx woman/);
    }
    expect(creates.map((c) => c.input.seed).sort()).toEqual([100, 101, 102, 103, 104, 105]);
    const body = emu.requests.find((r) => r.createdId)?.body as Json;
    // `owner/name:<hex>` is one of the accepted forms of `version` (https://replicate.com/docs/reference/http).
    expect(body.version).toBe(version);
    // The schema was fetched (validation) before the first create.
    const schemaAt = emu.requests.findIndex((r) => r.method === "GET" && r.path.endsWith(`/versions/${version.split(":")[1]}`));
    const firstCreate = emu.requests.findIndex((r) => r.createdId);
    expect(schemaAt).toBeGreaterThanOrEqual(0);
    expect(schemaAt).toBeLessThan(firstCreate);
    const manifest = await manifestOf(out);
    for (const entry of Object.values(manifest.images) as Json[]) {
      expect(entry).toMatchObject({ status: "done", modelRef: version, version: version.split(":")[1], costSource: "price-table" });
      expect(entry.predictionId).toMatch(/^[a-z2-7]{26}$/);
      const meta = await sharp(join(out, entry.file)).metadata();
      expect(meta.exif).toBeUndefined();
      const xmp = readXmpFields(meta.xmp?.toString("utf8") ?? "");
      expect(xmp).toMatchObject({ DigitalSourceType: "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia", seed: String(entry.seed), placeholder: "False" });
      expect(xmp.description).toBe(entry.prompt);
    }
  });

  it("explains what a locally trained identity needs, then runs flux-dev-lora with --lora-url (replicate/cog-flux predict.py DevLoraPredictor)", async () => {
    await registerIdentity(ws.home, "sam");
    const out = join(ws.dir, "out");
    const refused = await runCli(["gen", "--preset", "corporate", "--identity", "sam", "--count", "2", "--out", out], { cwd: ws.dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/trained locally/);
    expect(refused.stderr).toMatch(/huggingface\.co/);
    expect(refused.stderr).toMatch(/\.safetensors/);
    expect(refused.stderr).toMatch(/--lora-url/);
    expect(emu.count("POST", /predictions/)).toBe(0);

    const local = await runCli(["gen", "--preset", "corporate", "--identity", "sam", "--lora-url", "./lora.safetensors", "--out", out], { cwd: ws.dir, env });
    expect(local.code).toBe(2);
    expect(local.stderr).toMatch(/local path/);

    const result = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "sam", "--count", "2", "--seed", "5", "--format", "jpg", "--lora-url", "https://huggingface.co/sam/sam-lora/resolve/main/lora.safetensors", "--out", out], { cwd: ws.dir, env });
    expect(result.code, result.stdout).toBe(0);
    const creates = predictionCreates(emu);
    expect(creates).toHaveLength(2);
    for (const c of creates) {
      expect(c.path).toBe("/v1/models/black-forest-labs/flux-dev-lora/predictions");
      expect(c.input).toMatchObject({ lora_weights: "https://huggingface.co/sam/sam-lora/resolve/main/lora.safetensors", guidance: expect.any(Number), go_fast: false, output_format: "jpg" });
      expect(c.input).not.toHaveProperty("guidance_scale");
    }
    const files = (await readdir(out)).filter((f) => f.endsWith(".jpg"));
    expect(files).toHaveLength(2);
  });

  it("validates inputs against the model schema before paying: nothing is created", async () => {
    // Older fine-tuner versions cap lora_scale at 2 where hotswap ones allow 3 (replicate/flux-fine-tuner predict.py).
    const version = addTrainedModel(emu, "face-lora-val", (input) => {
      input.properties.lora_scale = { ...input.properties.lora_scale, maximum: 2 };
    });
    await registerIdentity(ws.home, "val", { backend: "replicate", replicate: { version } });
    const result = await runCli(["gen", "--preset", "corporate", "--identity", "val", "--count", "2", "--set", "generation.loraScale=2.5", "--out", join(ws.dir, "o")], { cwd: ws.dir, env });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/input\.lora_scale/);
    expect(result.stderr).toMatch(/nothing was sent/);
    expect(predictionCreates(emu)).toHaveLength(0);
  });

  it("stops with exit 4 before anything runs on 401 and 402", async () => {
    const version = addTrainedModel(emu, "face-lora-k");
    await registerIdentity(ws.home, "kim", { backend: "replicate", replicate: { version } });
    const args = ["gen", "--preset", "corporate", "--identity", "kim", "--count", "2", "--out", join(ws.dir, "o")];
    const bad = await runCli(args, { cwd: ws.dir, env: { ...env, REPLICATE_API_TOKEN: "r8_wrongwrongwrongwrongwrongwrongwrong12" } });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/401/);
    expect(bad.stderr).not.toContain("r8_wrong");
    emu.faults.insufficientCredit = true;
    const broke = await runCli(["--json", ...args], { cwd: ws.dir, env });
    expect(broke.code).toBe(4);
    expect(summaryOf(broke.json())).toMatchObject({ ok: false, error: { code: "E_REPLICATE_402" } });
    expect(predictionCreates(emu)).toHaveLength(0);
  });
});

describe("gen on Replicate: the batch engine", () => {
  it("makes 24 images at concurrency 6, with no more than 6 predictions in flight", async () => {
    const version = addTrainedModel(emu, "face-lora-24");
    await registerIdentity(ws.home, "jo", { backend: "replicate", replicate: { version } });
    const out = join(ws.dir, "out");
    const result = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "jo", "--count", "24", "--seed", "1000", "--concurrency", "6", "--format", "webp", "--out", out], { cwd: ws.dir, env });
    expect(result.code, result.stdout).toBe(0);
    const creates = predictionCreates(emu);
    expect(creates).toHaveLength(24);
    expect(new Set(creates.map((c) => c.input.seed)).size).toBe(24);
    const lines = result.json() as Json[];
    expect(lines.filter((l) => l.type === "gen.progress").at(-1)).toMatchObject({ done: 24, total: 24 });
    // Predictions in flight on the server at any moment: never more than --concurrency.
    const jobs = emu.state.jobOrder.filter((j) => creates.some((c) => c.id === j.id));
    const peak = Math.max(...jobs.map((j) => jobs.filter((k) => k.createdAt <= j.createdAt && k.endAt > j.createdAt).length));
    expect(peak).toBeLessThanOrEqual(6);
    expect(peak).toBeGreaterThanOrEqual(4);
    expect((await readdir(out)).filter((f) => f.endsWith(".webp"))).toHaveLength(24);
    expect((await readdir(out)).filter((f) => f.endsWith(".json") && f !== "manifest.json")).toHaveLength(24);
  });

  it("rides out a throttling storm without creating anything twice", async () => {
    const version = addTrainedModel(emu, "face-lora-storm");
    await registerIdentity(ws.home, "st", { backend: "replicate", replicate: { version } });
    emu.faults.throttleCreates = 0.3;
    emu.faults.throttleOthers = 0.1;
    emu.faults.retryAfterSeconds = 0;
    emu.faults.resetsInSeconds = 0;
    const out = join(ws.dir, "out");
    const result = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "st", "--count", "8", "--seed", "50", "--concurrency", "4", "--out", out], { cwd: ws.dir, env });
    expect(result.code, result.stdout).toBe(0);
    expect(emu.requests.filter((r) => r.fault === "throttled").length).toBeGreaterThan(0);
    const creates = predictionCreates(emu);
    expect(creates).toHaveLength(8);
    expect(new Set(creates.map((c) => c.input.seed)).size).toBe(8);
  });

  it("retries transient failures, reports NSFW-filtered and failed images (exit 5), and a re-run makes only those", async () => {
    const version = addTrainedModel(emu, "face-lora-f");
    await registerIdentity(ws.home, "fi", { backend: "replicate", replicate: { version } });
    const flaky = new Set<number>();
    emu.faults.failPrediction = (input) => {
      const seed = input.seed as number;
      if (seed === 201 && !flaky.has(seed)) {
        flaky.add(seed);
        return "CUDA out of memory. Tried to allocate 2.00 GiB";
      }
      if (seed === 202) return "Failed to load LoRA weights: invalid safetensors header";
      return null;
    };
    emu.faults.nsfw = (input) => input.seed === 203;
    const out = join(ws.dir, "out");
    const args = ["--json", "gen", "--preset", "corporate", "--identity", "fi", "--count", "5", "--seed", "200", "--concurrency", "5", "--out", out];
    const first = await runCli(args, { cwd: ws.dir, env });
    expect(first.code).toBe(5);
    const lines = first.json();
    expect(lines.filter((l) => l.type === "image.retry")).toEqual([expect.objectContaining({ kind: "transient" })]);
    expect(lines.filter((l) => l.type === "image.filtered")).toHaveLength(1);
    expect(lines.filter((l) => l.type === "image.failed")).toEqual([expect.objectContaining({ kind: "failed", code: "E_REPLICATE_PREDICTION_FAILED" })]);
    const summary = summaryOf(lines);
    expect(summary).toMatchObject({ ok: false, error: { code: "E_GEN_INCOMPLETE", exitCode: 5 } });
    expect(summary.error.batch).toMatchObject({ done: 3, total: 5 });
    expect(summary.error.batch.filtered).toEqual([expect.objectContaining({ seed: 203, code: "E_REPLICATE_NSFW" })]);
    expect(summary.error.batch.failed).toEqual([expect.objectContaining({ seed: 202 })]);
    expect(summary.error.hint).toMatch(/headshot gen --preset corporate --identity fi .*--seed 200 --out /);
    expect(predictionCreates(emu).filter((c) => c.input.seed === 201)).toHaveLength(2);

    // The human form lists what failed and how to resume.
    emu.clearLog();
    const human = await runCli(args.slice(1), { cwd: ws.dir, env });
    expect(human.code).toBe(5);
    expect(human.stderr).toMatch(/2 of 5 images did not land/);
    expect(human.stderr).toMatch(/safety checker/);
    expect(human.stderr).toMatch(/re-run to make only what is missing: headshot gen/);
    expect(predictionCreates(emu).map((c) => c.input.seed).sort()).toEqual([202, 203]);

    emu.faults.failPrediction = null;
    emu.faults.nsfw = null;
    emu.clearLog();
    const fixed = await runCli(args, { cwd: ws.dir, env });
    expect(fixed.code).toBe(0);
    expect(summaryOf(fixed.json())).toMatchObject({ done: 5, made: 2, skipped: 3 });
    expect(predictionCreates(emu).map((c) => c.input.seed).sort()).toEqual([202, 203]);
  });
});

/**
 * Interrupted runs: creates held briefly (Prefer: wait is shortened by the emulator's time unit), so
 * predictions are still queued or processing when the run stops.
 */
describe("gen on Replicate: interrupted runs and resume", () => {
  let slow: ReplicateEmulator;
  beforeAll(async () => {
    // wait=10 holds 10 x 20 ms: the create answers while the prediction is still running.
    slow = await startReplicateEmulator({ latencyMs: 1500, preferWaitUnitMs: 20, seed: 7 });
  });
  afterAll(async () => {
    await slow.close();
  });
  beforeEach(() => {
    Object.assign(slow.faults, defaultFaults());
    slow.setRetention(3_600_000);
    slow.clearLog();
  });

  const slowEnv = () => ({ ...ws.env, REPLICATE_API_TOKEN: slow.token, REPLICATE_BASE_URL: slow.baseUrl });

  async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > end) throw new Error("timed out waiting");
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  const answeredCreates = () => slow.requests.filter((r) => r.createdId && r.status !== undefined).length;

  it("Ctrl-C leaves processing predictions running; the re-run collects them without creating again", async () => {
    slow.setPredictionDuration(1500, 0.1);
    const version = addTrainedModel(slow, "face-lora-int");
    await registerIdentity(ws.home, "in", { backend: "replicate", replicate: { version } });
    const out = join(ws.dir, "out");
    const args = ["--json", "gen", "--preset", "corporate", "--identity", "in", "--count", "3", "--seed", "500", "--concurrency", "3", "--out", out];
    const controller = new AbortController();
    const running = runCli(args, { cwd: ws.dir, env: slowEnv(), signal: controller.signal });
    await until(() => answeredCreates() === 3);
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    const first = await running;
    expect(first.code).toBe(130);
    const summary = summaryOf(first.json());
    expect(summary).toMatchObject({ ok: false, error: { code: "E_INTERRUPTED" } });
    expect(summary.error.hint).toMatch(/re-run the same command/);
    expect(summary.error.details.join("\n")).toMatch(/left running/);
    expect(slow.count("POST", /\/predictions\/[^/]+\/cancel$/)).toBe(0);
    const manifest = await manifestOf(out);
    expect((Object.values(manifest.images) as Json[]).map((e) => e.status)).toEqual(["created", "created", "created"]);

    slow.clearLog();
    const second = await runCli(args, { cwd: ws.dir, env: slowEnv() });
    expect(second.code, second.stdout).toBe(0);
    expect(predictionCreates(slow)).toHaveLength(0);
    expect(summaryOf(second.json())).toMatchObject({ done: 3, made: 3 });
  });

  it("Ctrl-C cancels predictions still queued (not billed); the re-run creates them again", async () => {
    slow.setPredictionDuration(4000, 0.9);
    const version = addTrainedModel(slow, "face-lora-q");
    await registerIdentity(ws.home, "qu", { backend: "replicate", replicate: { version } });
    const out = join(ws.dir, "out");
    const args = ["--json", "gen", "--preset", "corporate", "--identity", "qu", "--count", "2", "--seed", "600", "--out", out];
    const controller = new AbortController();
    const running = runCli(args, { cwd: ws.dir, env: slowEnv(), signal: controller.signal });
    await until(() => answeredCreates() === 2);
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    const first = await running;
    expect(first.code).toBe(130);
    expect(slow.count("POST", /\/predictions\/[^/]+\/cancel$/)).toBe(2);
    const manifest = await manifestOf(out);
    expect((Object.values(manifest.images) as Json[]).map((e) => e.status)).toEqual(["planned", "planned"]);

    slow.setPredictionDuration(100, 0.1);
    slow.clearLog();
    const second = await runCli(args, { cwd: ws.dir, env: slowEnv() });
    expect(second.code).toBe(0);
    expect(predictionCreates(slow)).toHaveLength(2);
  });

  it("finds a prediction whose create was in flight when the run stopped, instead of paying twice", async () => {
    slow.setPredictionDuration(600, 0.1);
    const version = addTrainedModel(slow, "face-lora-c");
    await registerIdentity(ws.home, "cr", { backend: "replicate", replicate: { version } });
    const out = join(ws.dir, "out");
    const args = ["--json", "gen", "--preset", "corporate", "--identity", "cr", "--count", "2", "--seed", "700", "--out", out];
    const before = slow.state.jobOrder.length;
    const controller = new AbortController();
    const running = runCli(args, { cwd: ws.dir, env: slowEnv(), signal: controller.signal });
    // Both predictions exist on the server, but their create answers (held 200 ms) have not come back.
    await until(() => slow.state.jobOrder.length - before >= 2);
    expect(slow.requests.filter((r) => r.createdId && r.status !== undefined)).toHaveLength(0);
    controller.abort();
    expect((await running).code).toBe(130);
    const manifest = await manifestOf(out);
    expect((Object.values(manifest.images) as Json[]).map((e) => e.status)).toEqual(["creating", "creating"]);

    const second = await runCli(args, { cwd: ws.dir, env: slowEnv() });
    expect(second.code, second.stdout).toBe(0);
    expect(slow.state.jobOrder.length - before).toBe(2);
    expect(slow.count("GET", /^\/predictions$/)).toBeGreaterThan(0);
  });

  it("explains outputs that expired before the re-run and makes those images again", async () => {
    slow.setPredictionDuration(800, 0.1);
    const version = addTrainedModel(slow, "face-lora-e");
    await registerIdentity(ws.home, "ex", { backend: "replicate", replicate: { version } });
    const out = join(ws.dir, "out");
    const args = ["--json", "gen", "--preset", "corporate", "--identity", "ex", "--count", "2", "--seed", "800", "--out", out];
    const controller = new AbortController();
    const running = runCli(args, { cwd: ws.dir, env: slowEnv(), signal: controller.signal });
    await until(() => answeredCreates() === 2);
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    expect((await running).code).toBe(130);
    // They finish, and Replicate deletes their outputs (one hour in production: https://replicate.com/docs/reference/http#predictions.get).
    await new Promise((r) => setTimeout(r, 1800));
    slow.setRetention(700);
    slow.setPredictionDuration(100, 0.1);
    slow.clearLog();
    const second = await runCli(args, { cwd: ws.dir, env: slowEnv() });
    expect(second.code, second.stdout).toBe(0);
    const retries = (second.json() as Json[]).filter((l) => l.type === "image.retry");
    expect(retries).toHaveLength(2);
    expect(retries.every((r) => r.kind === "expired" && /one hour/.test(r.message))).toBe(true);
    expect(predictionCreates(slow)).toHaveLength(2);
  });
});
