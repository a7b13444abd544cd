import { readFile } from "node:fs/promises";
import { extract } from "tar-stream";
import { ZipFile } from "yazl";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  downloadOutput,
  ensureModel,
  getAccount,
  getLatestVersion,
  Predictions,
  Trainings,
  trainingProgress,
  uploadFile,
  validateInput,
  type Training,
} from "../../../src/replicate/index.js";
import { defaultFaults } from "../../support/replicate-emulator/faults.js";
import { TRAINER_VERSION, type ReplicateEmulator } from "../../support/replicate-emulator/index.js";
import { FAST_POLL, sessionFor, tempDir, withEmulator } from "./helpers.js";

let emu: ReplicateEmulator;
beforeAll(async () => {
  emu = await withEmulator({ trainingMs: 500 });
});
afterAll(async () => emu.close());
afterEach(() => Object.assign(emu.faults, defaultFaults()));

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, content] of Object.entries(files)) zip.addBuffer(Buffer.from(content), name);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function tarEntries(bytes: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const ex = extract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on("entry", (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on("data", (c: unknown) => {
        parts.push(c as Buffer);
      });
      stream.on("end", () => {
        out.set(header.name, Buffer.concat(parts));
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
  });
  ex.end(bytes);
  await done;
  return out;
}

describe("trainings", () => {
  it("account → destination model → zip upload → trainer version → train with progress → weights tar → run the new version", async () => {
    const session = sessionFor(emu);
    const account = await getAccount(session);
    expect(account).toMatchObject({ type: "user", username: "jane-doe" });
    const { created } = await ensureModel(session, account.username, "face-lora-jane");
    expect(created).toBe(true);
    expect((await ensureModel(session, account.username, "face-lora-jane")).created).toBe(false);

    const zip = await uploadFile(session, { bytes: await zipOf({ "a.jpg": "x", "a.txt": "a photo of TOK" }), filename: "photos.zip", contentType: "application/zip" });
    const trainer = await getLatestVersion(session, "ostris", "flux-dev-lora-trainer");
    expect(trainer.id).toMatch(/^[0-9a-f]{64}$/);
    const input = { input_images: zip.urls.get, trigger_word: "TOK", steps: 200, lora_rank: 8, autocaption: true };
    await validateInput(session, { version: `ostris/flux-dev-lora-trainer:${trainer.id}` }, input, undefined, "train");
    // The trainer's Input is its prediction schema (prompt required): training inputs do not fit it.
    await expect(validateInput(session, { version: `ostris/flux-dev-lora-trainer:${trainer.id}` }, input)).rejects.toMatchObject({ code: "E_REPLICATE_INPUT_INVALID" });

    const trainings = new Trainings(session);
    const training = await trainings.create({ trainer: { owner: "ostris", name: "flux-dev-lora-trainer", version: trainer.id }, destination: "jane-doe/face-lora-jane", input });
    expect(training.status).toBe("starting");
    const progress: number[] = [];
    const done = await trainings.wait(training, {
      ...FAST_POLL,
      onUpdate: (t: Training) => {
        const p = trainingProgress(t.logs);
        if (p) progress.push(p.current);
      },
    });
    const result = trainings.assertSucceeded(done);
    expect(result.version).toMatch(/^jane-doe\/face-lora-jane:[0-9a-f]{64}$/);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress[progress.length - 1]).toBe(200);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);

    const { dir, cleanup } = await tempDir();
    try {
      const weights = await downloadOutput(session, result.weights as string, { dir, name: "trained_model", expect: "tar" });
      expect(weights.path.endsWith("trained_model.tar")).toBe(true);
      const entries = await tarEntries(await readFile(weights.path));
      const lora = entries.get("output/flux_train_replicate/lora.safetensors");
      expect(lora).toBeDefined();
      const headerLength = Number(lora?.readBigUInt64LE(0));
      const header = JSON.parse(lora?.subarray(8, 8 + headerLength).toString("utf8") ?? "{}") as Record<string, { data_offsets?: number[] }>;
      const tensors = Object.entries(header).filter(([k]) => k !== "__metadata__");
      expect(tensors.length).toBeGreaterThan(0);
      const end = Math.max(...tensors.map(([, t]) => t.data_offsets?.[1] ?? 0));
      expect(lora?.length).toBe(8 + headerLength + end);
      expect([...entries.keys()].some((k) => k.includes("/captions/"))).toBe(true);
    } finally {
      await cleanup();
    }

    // The new version runs through POST /predictions with the trained-version schema (4.3).
    const predictions = new Predictions(session);
    const target = { version: result.version };
    await expect(validateInput(session, target, { prompt: "TOK", guidance: 3 })).rejects.toMatchObject({ code: "E_REPLICATE_INPUT_INVALID" });
    const run = await predictions.run({ target, input: { prompt: "a photo of TOK", guidance_scale: 3, num_outputs: 2 } }, FAST_POLL);
    expect(run.prediction.version).toBe(result.versionId);
    expect(run.outputs).toHaveLength(2);
    // And as lora_weights of the official flux-dev-lora.
    const viaLora = await predictions.run({ target: { model: "black-forest-labs/flux-dev-lora" }, input: { prompt: "TOK", lora_weights: "jane-doe/face-lora-jane" } }, FAST_POLL);
    expect(viaLora.outputs).toHaveLength(1);
  });

  it("a missing destination is a 404 with a hint to create it", async () => {
    const error = await new Trainings(sessionFor(emu))
      .create({ trainer: { owner: "ostris", name: "flux-dev-lora-trainer", version: TRAINER_VERSION }, destination: "jane-doe/does-not-exist", input: { input_images: "https://example.com/x.zip" } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_404", message: expect.stringContaining("training destination does not exist") });
    expect((error as { hint: string }).hint).toMatch(/Create the destination model/);
  });

  it("a failed training reports the trainer's error and the log tail; a bad zip fails like the trainer", async () => {
    const session = sessionFor(emu);
    await ensureModel(session, "jane-doe", "face-lora-fail");
    const trainings = new Trainings(session);
    const notZip = await uploadFile(session, { bytes: Buffer.from("not a zip at all"), filename: "photos.zip", contentType: "application/zip" });
    const training = await trainings.create({ trainer: { owner: "ostris", name: "flux-dev-lora-trainer", version: TRAINER_VERSION }, destination: "jane-doe/face-lora-fail", input: { input_images: notZip.urls.get, steps: 50 } });
    const done = await trainings.wait(training, FAST_POLL);
    expect(done.status).toBe("failed");
    const error = (() => {
      try {
        trainings.assertSucceeded(done);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toMatchObject({ code: "E_REPLICATE_TRAINING_FAILED", exitCode: 5, message: expect.stringContaining("not a zip file") });
    expect((error as { details: string[] }).details.join("\n")).toContain("flux_train_replicate:");
  });

  it("cancel on Ctrl-C and a dropped create recovered without a second training", async () => {
    const session = sessionFor(emu);
    await ensureModel(session, "jane-doe", "face-lora-cancel");
    const trainings = new Trainings(session, { recoveryDelayMs: 10 });
    emu.clearLog();
    emu.faults.dropNextCreates = 1;
    emu.faults.dropMode = "after";
    const input = { input_images: "https://example.com/photos.zip", steps: 100 };
    const training = await trainings.create({ trainer: { owner: "ostris", name: "flux-dev-lora-trainer", version: TRAINER_VERSION }, destination: "jane-doe/face-lora-cancel", input });
    expect(emu.count("POST", /\/trainings$/)).toBe(1);
    expect(emu.requests.find((r) => r.fault === "dropped_after")?.createdId).toBe(training.id);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 60);
    await expect(trainings.wait(training, { ...FAST_POLL, signal: controller.signal })).rejects.toMatchObject({ code: "E_INTERRUPTED" });
    expect((await trainings.get(training.id)).status).toBe("canceled");
  });
});

describe("trainingProgress", () => {
  it.each([
    ["flux_train_replicate:  12%|█▏        | 120/1000 [00:30<03:40,  4.00it/s]\n", { current: 120, total: 1000, percentage: 0.12 }],
    ["a\nflux_train_replicate:   0%|          | 0/50 [00:00<?, ?it/s]\nflux_train_replicate:  50%|█████     | 25/50 [00:10<00:10, 2.5it/s]", { current: 25, total: 50, percentage: 0.5 }],
    ["no progress here", null],
    ["", null],
  ])("%j", (logs, expected) => {
    expect(trainingProgress(logs)).toEqual(expected);
  });
});
