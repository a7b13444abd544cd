/**
 * The batch engine with a scripted backend (a Generator written here, at the backend boundary):
 * retry policy, re-attach without paying twice, fatal stop, filtered reporting, concurrency,
 * interruption and recovery of lost creates. Real manifest, real sharp writer, real files.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { RemoteApiError } from "../../../src/errors.js";
import { openBatch } from "../../../src/generation/batch-manifest.js";
import { runEngine, type EngineEvent } from "../../../src/generation/engine.js";
import { GenerationFailure, type GenCallbacks, type GenJob, type GenResult, type Generator, type RecoveryCandidate, type RemoteRef } from "../../../src/generation/generator.js";
import { preparePlan } from "../../../src/generation/prepare-plan.js";
import type { GenPlan } from "../../../src/generation/plan.js";
import { writeFileAtomic } from "../../../src/util/atomic-write.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-engine-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function plan(count: number, seed = 10): Promise<GenPlan> {
  return preparePlan(
    { preset: "corporate", count, seed, out: join(dir, "out"), backend: "test", concurrency: 2, format: "jpg" },
    { cwd: process.cwd(), presetDirs: [] },
  );
}

type Step = "ok" | "transient" | "reattach" | "filtered" | "failed" | "fatal" | "hang";

/** A backend whose answer per (seed, call) is scripted; it records what it was asked. */
class ScriptedGenerator implements Generator {
  readonly id = "scripted";
  readonly placeholder = false;
  calls: Array<{ seed: number; attempt: number; resume?: string }> = [];
  created = 0;
  inFlight = 0;
  peak = 0;
  private counter = 0;
  constructor(
    private readonly script: (seed: number, call: number) => Step,
    private readonly delayMs = 5,
  ) {}

  async generate(job: GenJob, cb: GenCallbacks): Promise<GenResult> {
    const seed = job.image.seed;
    const call = this.calls.filter((c) => c.seed === seed).length;
    this.calls.push({ seed, attempt: job.attempt, ...(job.resume ? { resume: job.resume.remoteId } : {}) });
    let remote: RemoteRef = job.resume ? { id: job.resume.remoteId, modelRef: "scripted" } : { id: "", modelRef: "scripted" };
    if (!job.resume) {
      await cb.onCreating?.();
      this.created++;
      remote = { id: `p${++this.counter}`, modelRef: "scripted" };
      await cb.onCreated?.(remote);
    }
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    try {
      const step = this.script(seed, call);
      if (step === "hang") {
        await new Promise((_resolve, reject) => {
          const abort = () => reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
          if (cb.signal.aborted) abort();
          else cb.signal.addEventListener("abort", abort, { once: true });
        });
      }
      await new Promise((r) => setTimeout(r, this.delayMs));
      if (step === "transient") throw new GenerationFailure("transient", "CUDA out of memory", { code: "E_T", remote });
      if (step === "reattach") throw new GenerationFailure("reattach", "download cut", { code: "E_DL", remote });
      if (step === "filtered") throw new GenerationFailure("filtered", "NSFW content detected", { code: "E_REPLICATE_NSFW", remote });
      if (step === "failed") throw new GenerationFailure("failed", "bad LoRA", { code: "E_F", remote });
      if (step === "fatal") throw new RemoteApiError("insufficient credit", { code: "E_REPLICATE_402", status: 402 });
    } finally {
      this.inFlight--;
    }
    await cb.onRemoteDone?.();
    const bytes = await sharp({ create: { width: 16, height: 20, channels: 3, background: "#456" } }).png().toBuffer();
    const rawPath = join(job.rawDir, `${job.rawName}.png`);
    await writeFileAtomic(rawPath, bytes);
    return { rawPath, sha256: "x", contentType: "image/png", remote, costUsd: 0.03, costSource: "price-table" };
  }

  interruptCalls: string[] = [];
  async onInterrupt(remote: RemoteRef): Promise<"cancelled" | "left-running"> {
    this.interruptCalls.push(remote.id);
    return remote.id.endsWith("1") ? "cancelled" : "left-running";
  }

  recoverCalls: Array<{ since: string; candidates: ReadonlyArray<RecoveryCandidate> }> = [];
  recoverable = new Map<number, string>();
  async recover(request: { since: string; candidates: ReadonlyArray<RecoveryCandidate> }): Promise<Map<string, RemoteRef>> {
    this.recoverCalls.push(request);
    const found = new Map<string, RemoteRef>();
    for (const c of request.candidates) {
      const seed = c.inputs[0]?.seed as number;
      const id = this.recoverable.get(seed);
      if (id) found.set(c.key, { id, modelRef: "scripted" });
    }
    return found;
  }

  async close(): Promise<void> {}
}

async function run(p: GenPlan, gen: Generator, options: { concurrency?: number; signal?: AbortSignal; events?: EngineEvent[] } = {}) {
  const opened = await openBatch(p, { backend: "scripted", modelRef: "scripted", placeholder: false, tool: "headshot test" });
  const result = await runEngine({
    plan: p,
    generator: gen,
    store: opened.store,
    concurrency: options.concurrency ?? 2,
    signal: options.signal ?? new AbortController().signal,
    tool: "headshot test",
    retryDelayMs: () => 1,
    onEvent: (e) => options.events?.push(e),
  });
  return { result, store: opened.store };
}

describe("runEngine", () => {
  it("retries transient failures with a new attempt and records every attempt", async () => {
    const p = await plan(3);
    const gen = new ScriptedGenerator((seed, call) => (seed === 11 && call < 2 ? "transient" : "ok"));
    const { result, store } = await run(p, gen);
    expect(result.entries.map((e) => e.status)).toEqual(["done", "done", "done"]);
    const e = store.entry(p.images[1]!.key)!;
    expect(e.attempts.map((a) => [a.n, a.outcome])).toEqual([[1, "transient"], [2, "transient"], [3, "succeeded"]]);
    expect(gen.created).toBe(5);
    const files = (await readdir(p.outDir)).filter((f) => f.endsWith(".jpg"));
    expect(files).toHaveLength(3);
    expect(result.spentThisRunUsd).toBeCloseTo(0.09);
  });

  it("gives up after maxAttempts transient failures and marks the image failed", async () => {
    const p = await plan(1);
    const gen = new ScriptedGenerator(() => "transient");
    const { result } = await run(p, gen);
    expect(result.entries[0]).toMatchObject({ status: "failed", error: { code: "E_T", kind: "transient" } });
    expect(gen.created).toBe(3);
  });

  it("re-attaches to the same prediction after a failed download instead of creating another", async () => {
    const p = await plan(1);
    const gen = new ScriptedGenerator((_seed, call) => (call === 0 ? "reattach" : "ok"));
    const { result } = await run(p, gen);
    expect(result.entries[0]!.status).toBe("done");
    expect(gen.created).toBe(1);
    expect(gen.calls.map((c) => c.resume)).toEqual([undefined, "p1"]);
  });

  it("reports filtered and failed images without retrying them", async () => {
    const p = await plan(3);
    const events: EngineEvent[] = [];
    const gen = new ScriptedGenerator((seed) => (seed === 10 ? "filtered" : seed === 11 ? "failed" : "ok"));
    const { result } = await run(p, gen, { events });
    expect(result.entries.map((e) => e.status)).toEqual(["filtered", "failed", "done"]);
    expect(events.filter((e) => e.type === "image.filtered")).toHaveLength(1);
    expect(events.filter((e) => e.type === "image.failed")).toHaveLength(1);
    expect(gen.created).toBe(3);
  });

  it("stops creating after a fatal error and lets the images in flight finish", async () => {
    const p = await plan(6);
    const gen = new ScriptedGenerator((seed) => (seed === 10 ? "fatal" : "ok"), 30);
    const { result } = await run(p, gen, { concurrency: 2 });
    expect(result.fatal?.code).toBe("E_REPLICATE_402");
    const statuses = result.entries.map((e) => e.status);
    expect(statuses[0]).toBe("failed");
    expect(statuses[1]).toBe("done");
    expect(statuses.filter((s) => s === "planned").length).toBeGreaterThanOrEqual(3);
  });

  it("never has more than --concurrency remote jobs in flight", async () => {
    const p = await plan(12);
    const gen = new ScriptedGenerator(() => "ok", 20);
    await run(p, gen, { concurrency: 3 });
    expect(gen.peak).toBe(3);
  });

  it("on interrupt hands running jobs to the backend's rule: cancelled ones go back to planned", async () => {
    const p = await plan(2);
    const gen = new ScriptedGenerator(() => "hang");
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const events: EngineEvent[] = [];
    const { result, store } = await run(p, gen, { signal: controller.signal, events });
    expect(result.interrupted).toBe(true);
    expect(gen.interruptCalls.sort()).toEqual(["p1", "p2"]);
    expect(store.entry(p.images[0]!.key)).toMatchObject({ status: "planned" });
    expect(store.entry(p.images[1]!.key)).toMatchObject({ status: "created", predictionId: "p2" });
    const manifest = JSON.parse(await readFile(join(p.outDir, "manifest.json"), "utf8"));
    expect(Object.values(manifest.images as Record<string, { status: string }>).map((e) => e.status).sort()).toEqual(["created", "planned"]);
  });

  it("on resume, re-attaches creates a killed run never recorded (found by their inputs)", async () => {
    const p = await plan(2);
    // First run: both images are created but the run is stopped before any id is written.
    await openBatch(p, { backend: "scripted", modelRef: "scripted", placeholder: false, tool: "t" });
    const gen = new ScriptedGenerator(() => "ok");
    gen.recoverable.set(10, "lost-1");
    const events: EngineEvent[] = [];
    const { result } = await run(p, gen, { events });
    expect(gen.recoverCalls).toHaveLength(1);
    expect(gen.recoverCalls[0]!.candidates.map((c) => c.key)).toEqual(p.images.map((i) => i.key));
    expect(events.filter((e) => e.type === "image.recovered")).toEqual([expect.objectContaining({ remoteId: "lost-1" })]);
    expect(gen.calls.find((c) => c.seed === 10)?.resume).toBe("lost-1");
    expect(gen.created).toBe(1);
    expect(result.entries.map((e) => e.status)).toEqual(["done", "done"]);
  });
});
