/**
 * The Node side of local generation against a fake Python that speaks the protocol
 * (test/support/fake-local-gen/fake_generate.py): real execa, real processes, real files.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DependencyError, InterruptedError, JobFailedError, UsageError } from "../../../src/errors.js";
import { openLocalGenerator, type LocalGeneratorEvent, type LocalGeneratorOptions, type LocalJob } from "../../../src/generation/local/local-generator.js";
import { pngSize, readJsonLines } from "../../support/fake-local-gen/files.js";

const FAKE = fileURLToPath(new URL("../../support/fake-local-gen/fake_generate.py", import.meta.url));

let dir: string;
let events: LocalGeneratorEvent[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-local-gen-"));
  events = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function options(env: Record<string, string> = {}, extra: Partial<LocalGeneratorOptions> = {}): LocalGeneratorOptions {
  return {
    python: "python3",
    script: FAKE,
    model: "flux1-dev",
    lora: join(dir, "jane.safetensors"),
    freeMiB: 24_000,
    gpu: "1",
    env: { FAKE_GEN_RECORD: join(dir, "record.jsonl"), PYTHONDONTWRITEBYTECODE: "1", ...env },
    onEvent: (event) => events.push(event),
    graceMs: 2_000,
    killAfterMs: 1_000,
    ...extra,
  };
}

function job(n: number, extra: Partial<LocalJob> = {}): LocalJob {
  return { id: `img-${n}`, prompt: `corporate headshot of ohwx ${n}`, width: 1024, height: 1024, steps: 4, guidance: 3.5, seed: 1000 + n, out: join(dir, "out", `${n}.png`), ...extra };
}

async function exitEvent(): Promise<LocalGeneratorEvent & { type: "exit" }> {
  for (let i = 0; i < 200; i++) {
    const exit = events.find((e): e is LocalGeneratorEvent & { type: "exit" } => e.type === "exit");
    if (exit) return exit;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("the child did not exit");
}

describe("openLocalGenerator against the fake Python", () => {
  it("spawns once with the memory mode, sends jobs, reports progress, and shuts down cleanly", async () => {
    const gen = await openLocalGenerator(options());
    expect(gen.ready).toMatchObject({ type: "ready", model: "flux1-dev", offload: "model", quantize: "8bit" });
    expect(gen.memory).toMatchObject({ offload: "model", quantize: "8bit" });

    const progress: Array<[number, number]> = [];
    const first = await gen.generate(job(1, { width: 1000, height: 770, loraScale: 0.8 }), { onProgress: (s, t) => progress.push([s, t]) });
    expect(first).toEqual({ path: join(dir, "out", "1.png"), width: 992, height: 768, seed: 1001 });
    expect(await pngSize(first.path)).toEqual({ width: 992, height: 768 });
    expect(progress).toEqual([[1, 4], [2, 4], [3, 4], [4, 4]]);
    await gen.generate(job(2));
    await gen.close();

    const record = await readJsonLines(join(dir, "record.jsonl"));
    expect(record[0]).toEqual({
      argv: ["--model", "flux1-dev", "--base", "black-forest-labs/FLUX.1-dev", "--lora", join(dir, "jane.safetensors"), "--offload", "model", "--quantize", "8bit", "--device", "cuda"],
      env: { PYTHONUNBUFFERED: "1", CUDA_VISIBLE_DEVICES: "1" },
    });
    const sent = record.filter((r) => "stdin" in r).map((r) => JSON.parse(r.stdin as string) as Record<string, unknown>);
    expect(sent).toEqual([
      { type: "job", id: "img-1", prompt: "corporate headshot of ohwx 1", width: 1000, height: 770, steps: 4, guidance: 3.5, seed: 1001, lora_scale: 0.8, out: join(dir, "out", "1.png") },
      { type: "job", id: "img-2", prompt: "corporate headshot of ohwx 2", width: 1024, height: 1024, steps: 4, guidance: 3.5, seed: 1002, lora_scale: 1, out: join(dir, "out", "2.png") },
      { type: "shutdown" },
    ]);
    expect(events.map((e) => e.type)).toContain("bye");
    expect(await exitEvent()).toMatchObject({ code: 0 });
    expect(events[0]).toMatchObject({ type: "memory", freeMiB: 24_000, offload: "model", quantize: "8bit" });
  });

  it("runs one job at a time even when the engine calls generate concurrently", async () => {
    const gen = await openLocalGenerator(options({ FAKE_GEN_STEP_SECONDS: "0.02" }));
    const images = await Promise.all([1, 2, 3].map((n) => gen.generate(job(n))));
    await gen.close();
    expect(images.map((i) => i.seed)).toEqual([1001, 1002, 1003]);
    const record = await readJsonLines(join(dir, "record.jsonl"));
    // The fake reads stdin unbuffered and notes any line that arrived while it was still busy.
    expect(record.filter((r) => "overlap" in r)).toEqual([]);
    expect(record.filter((r) => "stdin" in r)).toHaveLength(4);
  });

  it("waits through a slow model load, reporting loading lines", async () => {
    const gen = await openLocalGenerator(options({ FAKE_GEN_LOAD_SECONDS: "2.5" }, { readyTimeoutMs: 1_500 }));
    expect(events.filter((e) => e.type === "loading").length).toBeGreaterThan(15);
    await gen.close();
  });

  it("counts a download progress bar (\\r redraws, no newline) as a sign of life", async () => {
    const gen = await openLocalGenerator(options({ FAKE_GEN_DOWNLOAD_SECONDS: "4" }, { readyTimeoutMs: 2_000 }));
    const bars = events.filter((e) => e.type === "stderr" && e.line.startsWith("diffusion_pytorch_model.safetensors:"));
    expect(bars.length).toBeGreaterThan(20);
    await gen.close();
  });

  it("gives up on a child that never gets ready, and stops it", async () => {
    const started = Date.now();
    const error = await openLocalGenerator(options({ FAKE_GEN_NEVER_READY: "1" }, { readyTimeoutMs: 2_500 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({ code: "E_LOCAL_GEN_TIMEOUT", exitCode: 5 });
    expect((error as JobFailedError).hint).toContain("hf download black-forest-labs/FLUX.1-dev");
    expect((error as JobFailedError).details).toContain("fake: loading model");
    expect(Date.now() - started).toBeLessThan(8_000);
    // The fake answers SIGTERM like the real program: bye, exit 143.
    expect(await exitEvent()).toMatchObject({ code: 143 });
  });

  it("reports garbage stdout lines and keeps working", async () => {
    const gen = await openLocalGenerator(options({ FAKE_GEN_GARBAGE: "1" }));
    const image = await gen.generate(job(1));
    await gen.close();
    expect(image.seed).toBe(1001);
    const garbage = events.filter((e) => e.type === "garbage");
    expect(garbage.map((g) => (g as { line: string }).line)).toEqual([
      "Loading pipeline components...:   0%|          | 0/7 [00:00<?, ?it/s]",
      '{"unexpected": true}',
      "100%|##########| 28/28 [00:09<00:00,  2.95it/s]",
    ]);
  });

  it("turns an OOM into a JobFailedError naming the switch, and keeps serving", async () => {
    const gen = await openLocalGenerator(options({ FAKE_GEN_OOM_ON_JOB: "2" }));
    await gen.generate(job(1));
    const error = await gen.generate(job(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({ code: "E_LOCAL_GEN_OOM", message: "GPU out of memory for img-2 (1024x1024)." });
    expect((error as JobFailedError).hint).toContain("--offload sequential");
    expect((error as JobFailedError).hint).toContain("lower resolution");
    expect((error as JobFailedError).details.join("\n")).toContain("offload model, quantize 8bit");
    const third = await gen.generate(job(3));
    expect(third.seed).toBe(1003);
    await gen.close();
    expect(await readdir(join(dir, "out"))).toEqual(["1.png", "3.png"]);
  });

  it("rejects the running job with the stderr tail when the child crashes, and every later job too", async () => {
    const gen = await openLocalGenerator(options({ FAKE_GEN_CRASH_ON_JOB: "2" }));
    await gen.generate(job(1));
    const error = await gen.generate(job(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({ code: "E_LOCAL_GEN_CRASHED", message: "The local generator exited with code 1 while generating img-2." });
    expect((error as JobFailedError).details.join("\n")).toContain("illegal memory access");
    await expect(gen.generate(job(3))).rejects.toMatchObject({ code: "E_LOCAL_GEN_CRASHED" });
    await gen.close();
    expect(await readdir(join(dir, "out"))).toEqual(["1.png"]);
  });

  it("explains a SIGKILL (the kernel's OOM killer) as running out of RAM", async () => {
    const gen = await openLocalGenerator(options({ FAKE_GEN_KILL_SELF_ON_JOB: "1" }));
    const error = await gen.generate(job(1)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_LOCAL_GEN_CRASHED", message: "The local generator was killed by SIGKILL while generating img-1." });
    expect((error as JobFailedError).hint).toMatch(/ran out of RAM/);
    await gen.close();
  });

  it.each([
    ["oom", "E_LOCAL_GEN_OOM", JobFailedError, /--offload sequential/],
    ["model_access", "E_MODEL_ACCESS", DependencyError, /HF_TOKEN/],
    ["dependency", "E_LOCAL_GEN_DEPENDENCY", DependencyError, /AI_TOOLKIT_PYTHON/],
    ["lora", "E_LORA_INVALID", JobFailedError, /headshot train/],
  ])("maps a %s error while loading to %s", async (code, errorCode, type, hint) => {
    const error = await openLocalGenerator(options({ FAKE_GEN_LOAD_ERROR: code })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code: errorCode });
    expect((error as JobFailedError).hint).toMatch(hint);
    expect(await exitEvent()).toMatchObject({ code: 3 });
  });

  it("says to use ai-toolkit's venv when Python lacks torch", async () => {
    const error = await openLocalGenerator(options({ FAKE_GEN_IMPORT_FAIL: "1" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ code: "E_LOCAL_GEN_DEPENDENCY", message: "Python module torch is missing in python3.", exitCode: 3 });
    expect((error as DependencyError).hint).toContain("AI_TOOLKIT_PYTHON");
  });

  it("says so when the Python executable does not exist", async () => {
    const error = await openLocalGenerator(options({}, { python: join(dir, "venv", "bin", "python") })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect(error).toMatchObject({ code: "E_PYTHON_NOT_FOUND" });
    expect((error as DependencyError).message).toContain("ENOENT");
    expect((error as DependencyError).hint).toContain("AI_TOOLKIT_PYTHON");
  });

  it("stops the child on Ctrl-C mid-job and rejects with InterruptedError", async () => {
    const controller = new AbortController();
    const gen = await openLocalGenerator(options({ FAKE_GEN_STEP_SECONDS: "0.2" }, { signal: controller.signal }));
    const pending = gen.generate(job(1, { steps: 50 }), { onProgress: (step) => step === 2 && controller.abort() });
    await expect(pending).rejects.toBeInstanceOf(InterruptedError);
    expect(await exitEvent()).toMatchObject({ code: 143 });
    await expect(gen.generate(job(2))).rejects.toBeInstanceOf(InterruptedError);
    await gen.close();
    expect(await readdir(join(dir, "out")).catch(() => [])).toEqual([]);
  });

  it("escalates to SIGKILL when the child ignores shutdown and SIGTERM", async () => {
    const gen = await openLocalGenerator(options({ FAKE_GEN_IGNORE_TERM: "1" }, { graceMs: 300, killAfterMs: 300 }));
    const started = Date.now();
    await gen.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await exitEvent()).toMatchObject({ signal: "SIGKILL" });
  });

  it("honours a forced memory mode, and refuses sequential offload with quantization before spawning", async () => {
    const gen = await openLocalGenerator(options({}, { freeMiB: undefined, offload: "model", quantize: "4bit", nvidiaSmi: join(dir, "no-nvidia-smi") }));
    expect(gen.ready).toMatchObject({ offload: "model", quantize: "4bit" });
    await gen.close();
    events = [];
    const error = await openLocalGenerator(options({}, { offload: "sequential", quantize: "8bit" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).hint).toContain("--offload model --quantize 8bit");
    expect(events).toEqual([]);
  });

  it("falls back to model offload when nvidia-smi is missing", async () => {
    const gen = await openLocalGenerator(options({}, { freeMiB: undefined, nvidiaSmi: join(dir, "no-nvidia-smi") }));
    expect(gen.memory).toMatchObject({ offload: "model", quantize: "none" });
    expect(events[0]).toMatchObject({ type: "memory", freeMiB: undefined });
    await gen.close();
  });

  it("refuses to start when the signal has already fired", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(openLocalGenerator(options({}, { signal: controller.signal }))).rejects.toBeInstanceOf(InterruptedError);
    expect(events).toEqual([]);
  });
});
