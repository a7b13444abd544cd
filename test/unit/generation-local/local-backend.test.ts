/**
 * LocalBackend honours the engine's Generator contract (src/generation/generator.ts): the real
 * headshot_generate.py with stand-in diffusers, and the fake Python for a crash.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DependencyError, UsageError } from "../../../src/errors.js";
import { GenerationFailure, type GenJob } from "../../../src/generation/generator.js";
import { LocalBackend, type LocalBackendOptions } from "../../../src/generation/local/local-backend.js";
import type { PlannedImage } from "../../../src/generation/plan.js";
import { pngSize, readJsonLines, writeSafetensors } from "../../support/fake-local-gen/files.js";

const STANDINS = fileURLToPath(new URL("../../support/python-standins", import.meta.url));
const FAKE = fileURLToPath(new URL("../../support/fake-local-gen/fake_generate.py", import.meta.url));

let dir: string;
let lora: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-local-backend-"));
  lora = join(dir, "jane.safetensors");
  await writeSafetensors(lora, { "transformer.transformer_blocks.0.attn.to_q.lora_A.weight": [4, 16], "transformer.transformer_blocks.0.attn.to_q.lora_B.weight": [16, 4] });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function planned(index: number, seed: number): PlannedImage {
  const sampler = { steps: 6, guidance: 3.5, aspectRatio: "4:5" as const, width: 912, height: 1152, outputFormat: "png" as const, outputQuality: 95, loraScale: 0.85 };
  const prompt = `ohwx woman, corporate headshot, shot ${index}`;
  return {
    index,
    key: `default-${index}`,
    variation: { label: "default", axes: {} },
    seed,
    prompt,
    promptJson: {},
    sampler,
    model: "local",
    inputs: { prompt, width: sampler.width, height: sampler.height, steps: sampler.steps, guidance: sampler.guidance, seed, lora_scale: sampler.loraScale },
    fileName: `${index}.png`,
    path: join(dir, `${index}.png`),
  };
}

function genJob(image: PlannedImage): GenJob {
  return { image, attempt: 1, inputs: image.inputs, rawDir: join(dir, ".raw"), rawName: image.key };
}

function backend(env: Record<string, string>, extra: Partial<LocalBackendOptions> = {}): LocalBackend {
  return new LocalBackend({
    python: "python3",
    identity: { name: "jane", recipe: "flux1-dev", baseModel: "black-forest-labs/FLUX.1-dev", lora: { path: lora } },
    freeMiB: 40_000,
    env: { PYTHONPATH: STANDINS, PYTHONDONTWRITEBYTECODE: "1", STANDIN_RECORD: join(dir, "calls.jsonl"), ...env },
    graceMs: 3_000,
    killAfterMs: 2_000,
    ...extra,
  });
}

describe("LocalBackend", () => {
  it("loads once in prepare() and turns planned images into raw PNGs with hashes, at no cost", async () => {
    const generator = backend({});
    const signal = new AbortController().signal;
    const images = [planned(1, 501), planned(2, 502)];
    await generator.prepare({ signal, images });
    const stages: string[] = [];
    const results = [];
    for (const image of images) results.push(await generator.generate(genJob(image), { signal, onStage: (stage) => stages.push(stage) }));
    await generator.close();

    expect(generator).toMatchObject({ id: "local", placeholder: false });
    expect(stages).toEqual(["processing", "processing"]);
    for (const [i, result] of results.entries()) {
      expect(result).toMatchObject({ rawPath: join(dir, ".raw", `default-${i + 1}.png`), contentType: "image/png", costUsd: 0, costSource: "free", remote: { id: `default-${i + 1}#1`, modelRef: "local" } });
      expect(result.sha256).toBe(createHash("sha256").update(await readFile(result.rawPath)).digest("hex"));
      expect(await pngSize(result.rawPath)).toEqual({ width: 912, height: 1152 });
    }
    const calls = await readJsonLines(join(dir, "calls.jsonl"));
    expect(calls.filter((c) => c.call === "from_pretrained")).toHaveLength(1);
    expect(calls.filter((c) => c.call === "__call__").map((c) => [c.generator_seed, c.num_inference_steps, c.adapters])).toEqual([
      [501, 6, { identity: 0.85 }],
      [502, 6, { identity: 0.85 }],
    ]);
  });

  it("an OOM fails that image only; the next one is generated", async () => {
    const generator = backend({ STANDIN_OOM_ON_CALL: "1" });
    const signal = new AbortController().signal;
    const error = await generator.generate(genJob(planned(1, 1)), { signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GenerationFailure);
    expect(error).toMatchObject({ kind: "failed", code: "E_LOCAL_GEN_OOM" });
    expect((error as GenerationFailure).options.hint).toContain("--offload sequential");
    await expect(generator.generate(genJob(planned(2, 2)), { signal })).resolves.toMatchObject({ contentType: "image/png" });
    await generator.close();
  });

  it("a crashed Python process is fatal for the batch", async () => {
    const generator = backend({ FAKE_GEN_CRASH_ON_JOB: "1" }, { script: FAKE });
    const error = await generator.generate(genJob(planned(1, 1)), { signal: new AbortController().signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: "fatal", code: "E_LOCAL_GEN_CRASHED" });
    await generator.close();
  });

  it("load failures come out of prepare() with their own type", async () => {
    const generator = backend({ STANDIN_GATED: "1" });
    await expect(generator.prepare({ signal: new AbortController().signal, images: [] })).rejects.toBeInstanceOf(DependencyError);
    await generator.close();
  });

  it("refuses an identity trained for a model it cannot run", () => {
    expect(() => backend({}, { identity: { name: "jane", recipe: "sdxl", lora: { path: lora } } })).toThrow(UsageError);
  });
});
