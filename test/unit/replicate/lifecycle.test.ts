import { readFile } from "node:fs/promises";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadOutput, Predictions, validateInput } from "../../../src/replicate/index.js";
import { VERSION } from "../../../src/version.js";
import type { ReplicateEmulator } from "../../support/replicate-emulator/index.js";
import { FAST_POLL, sessionFor, tempDir, withEmulator } from "./helpers.js";

let emu: ReplicateEmulator;
beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(async () => emu.close());

describe("prediction lifecycle against the emulator", () => {
  it("runs flux-dev-lora, sees starting → processing → succeeded with growing logs, and downloads real images", async () => {
    // Long enough that polls see every stage even on a loaded machine.
    emu.setPredictionDuration(700, 0.2);
    const session = sessionFor(emu, {});
    const predictions = new Predictions(session);
    const updates: Array<{ status: string; logs: number }> = [];
    const { prediction, outputs } = await predictions.run(
      { target: { model: "black-forest-labs/flux-dev-lora" }, input: { prompt: "a photo of TOK", num_outputs: 2, output_format: "png", seed: 7 } },
      { ...FAST_POLL, onUpdate: (p) => updates.push({ status: p.status, logs: (p.logs ?? "").length }) },
    );
    emu.setPredictionDuration(120, 0.3);
    expect(prediction.status).toBe("succeeded");
    expect(prediction.version).toBe("hidden");
    expect(outputs).toHaveLength(2);
    expect(updates[0]?.status).toBe("starting");
    expect(updates.map((u) => u.status)).toContain("processing");
    const logLengths = updates.map((u) => u.logs);
    expect(logLengths[logLengths.length - 1]).toBeGreaterThan(logLengths.find((l) => l > 0) ?? Infinity - 1);

    const { dir, cleanup } = await tempDir();
    try {
      const result = await downloadOutput(session, outputs[0] as string, { dir, name: "jane-001", expect: "image" });
      expect(result.path.endsWith("jane-001.png")).toBe(true);
      expect(result.contentType).toBe("image/png");
      const bytes = await readFile(result.path);
      expect(bytes.length).toBe(result.bytes);
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe("png");
      expect(meta.width).toBeGreaterThan(0);
      // The download carried no Authorization header (outputs are public: replicate/replicate-javascript lib/stream.js).
      const download = emu.requests.find((r) => r.path.startsWith("/delivery/"));
      expect(download?.auth).toBe("none");
      // API calls: Bearer auth and our user agent (replicate/replicate-javascript index.js).
      const create = emu.requests.find((r) => r.createdId === prediction.id);
      expect(create).toMatchObject({ auth: "valid", authScheme: "Bearer", headers: { "user-agent": `headshot/${VERSION}` } });
    } finally {
      await cleanup();
    }
  });

  it("normalises a single-URI output (flux-2-pro) and an array output (flux-2-klein-4b)", async () => {
    const predictions = new Predictions(sessionFor(emu));
    const pro = await predictions.run({ target: { model: "black-forest-labs/flux-2-pro" }, input: { prompt: "x" } }, FAST_POLL);
    expect(typeof pro.prediction.output).toBe("string");
    expect(pro.outputs).toHaveLength(1);
    const klein = await predictions.run({ target: { model: "black-forest-labs/flux-2-klein-4b" }, input: { prompt: "x", images: [] } }, FAST_POLL);
    expect(Array.isArray(klein.prediction.output)).toBe(true);
    expect(klein.outputs[0]).toMatch(/\.jpg$/);
  });

  it("validates input locally before any paid request, with per-field messages and did-you-mean", async () => {
    const session = sessionFor(emu);
    const before = emu.count("POST", /predictions$/);
    const error = await validateInput(session, { model: "black-forest-labs/flux-dev-lora" }, { prompt: 3, guidance_scale: 3, num_outputs: 9, aspect_ratio: "7:1" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_INPUT_INVALID", exitCode: 2 });
    const details = (error as { details: string[] }).details.join("\n");
    expect(details).toContain("input.prompt: Invalid type. Expected: string, given: integer");
    expect(details).toContain('input.guidance_scale: Additional property guidance_scale is not allowed (did you mean "guidance"?)');
    expect(details).toContain("input.num_outputs: Must be less than or equal to 4");
    expect(details).toContain("input.aspect_ratio");
    expect(emu.count("POST", /predictions$/)).toBe(before);
    // A valid input passes and returns the schema for reuse.
    await expect(validateInput(session, { model: "black-forest-labs/flux-dev-lora" }, { prompt: "ok", num_outputs: 4 })).resolves.toBeTruthy();
  });

  it("a sync wait (Prefer: wait) that ends in processing is polled to the end, not returned with null output", async () => {
    emu.setPredictionDuration(1500, 0.1);
    try {
      const predictions = new Predictions(sessionFor(emu));
      const created = await predictions.create({ target: { model: "black-forest-labs/flux-dev-lora" }, input: { prompt: "slow" }, syncWaitSeconds: 1 });
      expect(["starting", "processing"]).toContain(created.status);
      expect(created.output).toBeNull();
      const done = await predictions.wait(created, FAST_POLL);
      expect(predictions.assertSucceeded(done).outputs).toHaveLength(1);
      const create = emu.requests.find((r) => r.createdId === created.id);
      expect(create?.headers.prefer).toBe("wait=1");
    } finally {
      emu.setPredictionDuration(120, 0.3);
    }
  });

  it("a sync wait long enough returns the finished prediction in one request", async () => {
    const predictions = new Predictions(sessionFor(emu));
    const created = await predictions.create({ target: { model: "black-forest-labs/flux-2-dev" }, input: { prompt: "fast" }, syncWaitSeconds: 5 });
    expect(created.status).toBe("succeeded");
    expect(typeof created.output).toBe("string");
  });
});
