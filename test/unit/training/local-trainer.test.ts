/**
 * LocalAiToolkitTrainer against the fake ai-toolkit checkout: real execa, real files, the fake
 * run.py behaving as ostris/ai-toolkit describes. A hand-made dataset stands in for a prepared set.
 */
import { readdir, readFile, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DependencyError, HeadshotError, InterruptedError, JobFailedError } from "../../../src/errors.js";
import { LocalAiToolkitTrainer } from "../../../src/training/ai-toolkit/local-trainer.js";
import { readTrainingStep } from "../../../src/training/ai-toolkit/safetensors.js";
import { buildTrainPlan, type TrainPlanInput } from "../../../src/training/plan.js";
import type { TrainEvent } from "../../../src/training/types.js";
import { fakeEnv, makeDataset, makeFakeCheckout, toolkitSettings, type RecordedRun } from "../../support/fake-ai-toolkit/harness.js";

let root: string;
let toolkit: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "headshot-trainer-"));
  toolkit = await makeFakeCheckout(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
async function setup(over: Partial<TrainPlanInput> = {}, env: Record<string, string | undefined> = {}) {
  const home = join(root, `home-${++counter}`);
  const record = join(root, `record-${counter}.jsonl`);
  const datasetDir = await makeDataset(join(home, "identities", "jane", "dataset", "images"), 5);
  const plan = buildTrainPlan({
    name: "jane",
    home,
    selfiesDir: join(root, "selfies"),
    steps: 20,
    gpu: { index: 0, name: "NVIDIA GeForce RTX 4090", totalMiB: 24564, freeMiB: 24100 },
    datasetDir,
    ...over,
  });
  const fullEnv = fakeEnv({ FAKE_AITK_RECORD: record, ...env });
  const trainer = new LocalAiToolkitTrainer({ settings: toolkitSettings(toolkit), env: fullEnv });
  const events: TrainEvent[] = [];
  const run = async (signal = new AbortController().signal) => trainer.train(plan, { signal, onEvent: (e) => events.push(e) });
  const runs = async (): Promise<RecordedRun[]> => {
    try {
      return (await readFile(record, "utf8")).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as RecordedRun);
    } catch {
      return [];
    }
  };
  return { plan, trainer, events, run, runs, env: fullEnv };
}

async function failure(promise: Promise<unknown>): Promise<HeadshotError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HeadshotError) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

describe("a full training against the fake", () => {
  it("spawns run.py correctly, reports progress, checkpoints and samples, and checks the final LoRA", async () => {
    const t = await setup();
    const result = await t.run();
    expect(result).toMatchObject({ loraPath: t.plan.paths.finalLora, step: 20, alreadyFinished: false });
    expect(await readTrainingStep(t.plan.paths.finalLora)).toBe(20);

    const [recorded] = await t.runs();
    expect(recorded?.cwd).toBe(toolkit);
    expect(recorded?.argv).toEqual([join(toolkit, "run.py"), t.plan.paths.jobConfig, "-l", t.plan.paths.log]);
    expect(recorded?.env.PYTHONUNBUFFERED).toBe("1");

    const progress = t.events.filter((e): e is Extract<TrainEvent, { type: "progress" }> => e.type === "progress");
    expect(progress.at(-1)).toMatchObject({ step: 20, total: 20, percent: 100 });
    expect(progress.every((p) => p.total === 20)).toBe(true); // latent caching and sampling bars ignored
    expect(progress.some((p) => p.loss !== undefined && p.lr === 1e-4)).toBe(true);
    const checkpoints = t.events.filter((e) => e.type === "checkpoint").map((e) => (e as { step: number }).step);
    expect(checkpoints).toEqual([5, 10, 15, -1]);
    const samples = t.events.filter((e) => e.type === "sample").map((e) => (e as { path: string }).path);
    expect(samples.length).toBe(4 * 4); // steps 6, 12, 18 and the final pass, 4 prompts each
    expect(samples.every((p) => /__0000000(06|12|18|20)_\d\.jpg$/.test(p))).toBe(true);
    expect(result.samples).toEqual(samples);

    // ai-toolkit's own copy of the config, our job file and the tee'd log.
    expect((await stat(join(t.plan.paths.outputDir, "config.yaml"))).isFile()).toBe(true);
    expect(await readFile(t.plan.paths.jobConfig, "utf8")).toContain(`folder_path: ${t.plan.paths.datasetDir}`);
    expect(await readFile(t.plan.paths.log, "utf8")).toContain("Running 1 job");
  });

  it("does not re-run a finished training", async () => {
    const t = await setup();
    await t.run();
    const again = await t.run();
    expect(again.alreadyFinished).toBe(true);
    expect(again.loraPath).toBe(t.plan.paths.finalLora);
    expect((await t.runs()).length).toBe(1);
  });

  it("passes HF_TOKEN and CUDA_VISIBLE_DEVICES through, and parses the config with the fallback YAML reader", async () => {
    const t = await setup({ gpuIds: "0" }, { HF_TOKEN: "hf_test", FAKE_AITK_GATED: "1", FAKE_AITK_MINI_YAML: "1", REPLICATE_API_TOKEN: "r8_secret" });
    const result = await t.run();
    expect(result.step).toBe(20);
    const [recorded] = await t.runs();
    expect(recorded?.env).toMatchObject({ HF_TOKEN: "hf_test", CUDA_VISIBLE_DEVICES: "0", CUDA_DEVICE_ORDER: "PCI_BUS_ID", REPLICATE_API_TOKEN: null });
  });
});

describe("resume", () => {
  it("continues from the newest checkpoint after a crash, without clobbering earlier files", async () => {
    const t = await setup({}, { FAKE_AITK_CRASH_AT_STEP: "13" });
    const crash = await failure(t.run());
    expect(crash).toBeInstanceOf(JobFailedError);
    expect(crash.code).toBe("E_TRAIN_CRASHED");
    expect(crash.details.join("\n")).toContain("RuntimeError: expected scalar type BFloat16 but found Float");
    expect(crash.details.join("\n")).toContain("Error running job:");
    const before = await readdir(t.plan.paths.outputDir);
    expect(before).toEqual(expect.arrayContaining(["jane_000000005.safetensors", "jane_000000010.safetensors", "optimizer.pt"]));

    const resumed = new LocalAiToolkitTrainer({ settings: toolkitSettings(toolkit), env: { ...t.env, FAKE_AITK_CRASH_AT_STEP: undefined } });
    const events: TrainEvent[] = [];
    const result = await resumed.train(t.plan, { signal: new AbortController().signal, onEvent: (e) => events.push(e) });
    expect(result).toMatchObject({ step: 20, resumedFromStep: 10 });
    expect(events.find((e) => e.type === "start")).toMatchObject({ resumeFromStep: 10 });
    const progress = events.filter((e): e is Extract<TrainEvent, { type: "progress" }> => e.type === "progress");
    expect(progress[0]?.step).toBe(10);
    const after = await readdir(t.plan.paths.outputDir);
    expect(after).toEqual(expect.arrayContaining(["jane_000000005.safetensors", "jane_000000010.safetensors", "jane_000000015.safetensors", "jane.safetensors"]));
    expect(await readFile(t.plan.paths.log, "utf8")).toContain("#### IMPORTANT RESUMING FROM");
  });
});

describe("Ctrl-C", () => {
  it("stops the child with SIGINT, keeps the last checkpoint and throws InterruptedError (exit 130)", async () => {
    const t = await setup({}, { FAKE_AITK_HANG_AT_STEP: "13" });
    const controller = new AbortController();
    const trainer = new LocalAiToolkitTrainer({ settings: toolkitSettings(toolkit), env: t.env });
    const promise = trainer.train(t.plan, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "progress" && e.step >= 12) controller.abort(new Error("received SIGINT"));
      },
    });
    const error = await failure(promise);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(error.exitCode).toBe(130);
    expect(error.details.join(" ")).toContain("step 10");
    const log = await readFile(t.plan.paths.log, "utf8");
    expect(log).toContain("Job stopped"); // run.py's banner: it exited 0 after KeyboardInterrupt
    expect(await readdir(t.plan.paths.outputDir)).not.toContain("jane.safetensors");
  });
});

describe("failures", () => {
  it("detects a load-time CUDA OOM and suggests --low-vram first", async () => {
    const t = await setup({}, { FAKE_AITK_OOM_ON_LOAD: "1" });
    const error = await failure(t.run());
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.code).toBe("E_TRAIN_OOM");
    expect(error.message).toBe("training ran out of GPU memory while loading the model");
    expect(error.hint).toMatch(/^re-run the same command with --low-vram/);
    expect(error.details.join("\n")).toContain("CUDA out of memory. Tried to allocate");
  });

  it("suggests the next switch when low_vram and quantize are already on", async () => {
    const t = await setup({ lowVram: true, recipe: "flux2-klein-4b" }, { FAKE_AITK_OOM_AT_STEP: "3" });
    const error = await failure(t.run());
    expect(error.code).toBe("E_TRAIN_OOM");
    expect(error.message).toContain("during training");
    expect(error.hint).toMatch(/--rank 16 \(now 32\)/);
  });

  it("explains a gated model without HF_TOKEN", async () => {
    const t = await setup({}, { FAKE_AITK_GATED: "1", HF_TOKEN: undefined });
    const error = await failure(t.run());
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.code).toBe("E_HF_GATED");
    expect(error.message).toContain("HF_TOKEN is not set");
    expect(error.hint).toContain("https://huggingface.co/black-forest-labs/FLUX.1-dev");
    expect(error.hint).toContain("HF_TOKEN");
  });

  it("treats exit 0 without the final LoRA as a failure", async () => {
    const t = await setup({}, { FAKE_AITK_EXIT0_WITHOUT_OUTPUT: "1" });
    const error = await failure(t.run());
    expect(error.code).toBe("E_TRAIN_NO_OUTPUT");
    expect(error.message).toContain("jane.safetensors is missing");
  });

  it("refuses to start without a usable checkout (preflight)", async () => {
    const t = await setup();
    const trainer = new LocalAiToolkitTrainer({ settings: toolkitSettings(join(root, "missing")), env: t.env });
    const error = await failure(trainer.train(t.plan, { signal: new AbortController().signal, onEvent: () => undefined }));
    expect(error).toBeInstanceOf(DependencyError);
    expect(error.details.join("\n")).toMatch(/no run\.py in .*missing/);
  });
});
