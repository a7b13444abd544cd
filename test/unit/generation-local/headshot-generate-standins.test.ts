/**
 * The real src/generation/local/headshot_generate.py, run by the machine's python3 with stand-in
 * torch, diffusers, safetensors and PIL first on PYTHONPATH (test/support/python-standins). The
 * stand-ins record every call, so these tests check what the program asks of diffusers: pipeline
 * class, from_pretrained arguments, dtype, quantization, LoRA loading, offload, call arguments, seeds
 * and sizes; and they check the PNG files it writes.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DependencyError, InterruptedError, JobFailedError } from "../../../src/errors.js";
import { openLocalGenerator, type LocalGeneratorEvent, type LocalGeneratorOptions, type LocalJob } from "../../../src/generation/local/local-generator.js";
import { generateScriptPath } from "../../../src/generation/local/script-path.js";
import { pngSize, readJsonLines, writeSafetensors } from "../../support/fake-local-gen/files.js";

const STANDINS = fileURLToPath(new URL("../../support/python-standins", import.meta.url));
type Call = { call: string } & Record<string, unknown>;

let dir: string;
let events: LocalGeneratorEvent[];
let flux1Lora: string;
let flux2Lora: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-gen-py-"));
  events = [];
  // ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py: FLUX.1 LoRAs are diffusers PEFT keys under transformer.
  flux1Lora = join(dir, "jane-flux1.safetensors");
  await writeSafetensors(flux1Lora, {
    "transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight": [4, 32],
    "transformer.single_transformer_blocks.0.attn.to_q.lora_B.weight": [32, 4],
    "transformer.transformer_blocks.0.attn.to_k.lora_A.weight": [4, 32],
    "transformer.transformer_blocks.0.attn.to_k.lora_B.weight": [32, 4],
  }, { ss_base_model_version: "flux.1" });
  // FLUX.2: BFL module names under diffusion_model., here with the few blocks of a small model.
  flux2Lora = join(dir, "jane-klein.safetensors");
  await writeSafetensors(flux2Lora, {
    "diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight": [4, 32],
    "diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight": [96, 4],
    "diffusion_model.double_blocks.0.txt_attn.proj.lora_A.weight": [4, 32],
    "diffusion_model.double_blocks.0.txt_attn.proj.lora_B.weight": [32, 4],
    "diffusion_model.double_blocks.4.img_mlp.0.lora_A.weight": [4, 32],
    "diffusion_model.double_blocks.4.img_mlp.0.lora_B.weight": [64, 4],
    "diffusion_model.single_blocks.19.linear1.lora_A.weight": [4, 32],
    "diffusion_model.single_blocks.19.linear1.lora_B.weight": [160, 4],
    "diffusion_model.single_blocks.19.linear2.lora_A.weight": [4, 64],
    "diffusion_model.single_blocks.19.linear2.lora_B.weight": [32, 4],
    "diffusion_model.final_layer.adaLN_modulation.1.lora_A.weight": [4, 32],
    "diffusion_model.final_layer.adaLN_modulation.1.lora_B.weight": [64, 4],
  }, { ss_base_model_version: "flux2_klein_4b" });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const recordFile = () => join(dir, "calls.jsonl");
const calls = () => readJsonLines<Call>(recordFile());
const only = async (name: string) => (await calls()).filter((c) => c.call === name);

function options(env: Record<string, string> = {}, extra: Partial<LocalGeneratorOptions> = {}): LocalGeneratorOptions {
  return {
    python: "python3",
    model: "flux1-dev",
    lora: flux1Lora,
    freeMiB: 23_500,
    env: { PYTHONPATH: STANDINS, PYTHONDONTWRITEBYTECODE: "1", STANDIN_RECORD: recordFile(), ...env },
    onEvent: (event) => events.push(event),
    graceMs: 3_000,
    killAfterMs: 2_000,
    ...extra,
  };
}

function job(n: number, extra: Partial<LocalJob> = {}): LocalJob {
  return { id: `img-${n}`, prompt: "corporate headshot of ohwx woman, navy blazer", width: 1024, height: 1024, steps: 5, guidance: 3.5, seed: 42, out: join(dir, "out", `${n}.png`), ...extra };
}

describe("headshot_generate.py against stand-in diffusers", () => {
  it("FLUX.1 dev: FluxPipeline in bf16, 8-bit on a 24 GB card, LoRA at the job's scale, sizes floored to 16", async () => {
    const gen = await openLocalGenerator(options());
    expect(gen.ready).toEqual({ type: "ready", model: "flux1-dev", device: "cuda", offload: "model", quantize: "8bit" });
    const steps: number[] = [];
    const image = await gen.generate(job(1, { width: 1000, height: 1350, steps: 28, loraScale: 0.9 }), { onProgress: (s) => steps.push(s) });
    await gen.close();

    expect(image).toEqual({ path: join(dir, "out", "1.png"), width: 992, height: 1344, seed: 42 });
    expect(await pngSize(image.path)).toEqual({ width: 992, height: 1344 });
    expect(steps).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
    // Library prints went to stderr, never into the protocol.
    expect(events.filter((e) => e.type === "garbage")).toEqual([]);
    expect(events.some((e) => e.type === "stderr" && e.line.includes("Loading pipeline components"))).toBe(true);

    const recorded = await calls();
    expect(recorded.map((c) => c.call)).toEqual([
      "from_pretrained",
      "set_progress_bar_config",
      "load_lora_weights",
      "enable_model_cpu_offload",
      "set_adapters",
      "torch.Generator.manual_seed",
      "__call__",
    ]);
    expect(recorded[0]).toMatchObject({
      pipeline: "FluxPipeline",
      pretrained_model_name_or_path: "black-forest-labs/FLUX.1-dev",
      torch_dtype: "torch.bfloat16",
      quantization: {
        quant_backend: "bitsandbytes_8bit",
        quant_kwargs: { load_in_8bit: true },
        components_to_quantize: ["transformer", "text_encoder_2"],
      },
    });
    expect(recorded[1]).toMatchObject({ kwargs: { disable: true } });
    expect(recorded[2]).toMatchObject({ source: "path", path: flux1Lora, adapter_name: "identity" });
    expect(recorded[3]).toMatchObject({ device: "cuda" });
    expect(recorded[4]).toMatchObject({ adapter_names: ["identity"], adapter_weights: [0.9] });
    expect(recorded[5]).toMatchObject({ device: "cuda", seed: 42 });
    expect(recorded[6]).toMatchObject({
      pipeline: "FluxPipeline",
      prompt: "corporate headshot of ohwx woman, navy blazer",
      width: 992,
      height: 1344,
      num_inference_steps: 28,
      guidance_scale: 3.5,
      generator_device: "cuda",
      generator_seed: 42,
      adapters: { identity: 0.9 },
      placement: ["model_offload", "cuda"],
    });
    expect(await readdir(join(dir, "out"))).toEqual(["1.png"]);
  });

  it("one load serves gen and the face pass: inpaint (with a mask) and img2img (without) are made once each from the loaded pipeline", async () => {
    const { default: sharp } = await import("sharp");
    const region = join(dir, "region.png");
    const mask = join(dir, "mask.png");
    await sharp({ create: { width: 512, height: 512, channels: 3, background: { r: 180, g: 140, b: 120 } } }).png().toFile(region);
    await sharp({ create: { width: 512, height: 512, channels: 3, background: { r: 255, g: 255, b: 255 } } }).png().toFile(mask);
    const gen = await openLocalGenerator(options({}, { freeMiB: 81_000 }));
    await gen.generate(job(1, { steps: 20 }));
    const steps: Array<[number, number]> = [];
    const inpainted = await gen.generate(job(2, { width: 512, height: 512, steps: 20, seed: 9, image: region, mask, strength: 0.35 }), { onProgress: (s, t) => steps.push([s, t]) });
    await gen.generate(job(3, { width: 512, height: 512, steps: 20, seed: 10, image: region, mask, strength: 0.5 }));
    await gen.generate(job(4, { width: 512, height: 512, steps: 20, seed: 11, image: region, strength: 0.35 }));
    await gen.close();

    expect(await pngSize(inpainted.path)).toEqual({ width: 512, height: 512 });
    expect(steps.at(-1)).toEqual([7, 7]); // int(20 x 0.35): only the last steps run
    expect(await only("from_pretrained")).toHaveLength(1);
    expect(await only("load_lora_weights")).toHaveLength(1);
    expect((await only("from_pipe")).map((c) => [c.pipeline, c.source])).toEqual([
      ["FluxInpaintPipeline", "FluxPipeline"],
      ["FluxImg2ImgPipeline", "FluxPipeline"],
    ]);
    const runs = await only("__call__");
    expect(runs.map((c) => c.pipeline)).toEqual(["FluxPipeline", "FluxInpaintPipeline", "FluxInpaintPipeline", "FluxImg2ImgPipeline"]);
    expect(runs[1]).toMatchObject({ num_inference_steps: 7, generator_seed: 9, adapters: { identity: 1 }, placement: ["to", ["cuda"]], extra: { strength: 0.35, image_size: [512, 512], mask_size: [512, 512] } });
    expect(runs[2]).toMatchObject({ num_inference_steps: 10, extra: { strength: 0.5 } });
    expect(runs[3]).toMatchObject({ num_inference_steps: 7, generator_seed: 11, adapters: { identity: 1 }, extra: { strength: 0.35, image_size: [512, 512] } });
    expect(runs[3]!.extra).not.toHaveProperty("mask_size");
  });

  it("is reproducible: same seed gives the same bytes, another seed does not; the LoRA scale is only reset when it changes", async () => {
    const gen = await openLocalGenerator(options({}, { freeMiB: 81_000 }));
    const a = await gen.generate(job(1, { seed: 7 }));
    const b = await gen.generate(job(2, { seed: 7 }));
    const c = await gen.generate(job(3, { seed: 8 }));
    const d = await gen.generate(job(4, { seed: 7, loraScale: 0.6 }));
    await gen.close();
    const [pa, pb, pc, pd] = await Promise.all([a, b, c, d].map((i) => readFile(i.path)));
    expect(pa!.equals(pb!)).toBe(true);
    expect(pa!.equals(pc!)).toBe(false);
    expect(pa!.equals(pd!)).toBe(false);
    expect((await only("torch.Generator.manual_seed")).map((c) => c.seed)).toEqual([7, 7, 8, 7]);
    expect((await only("set_adapters")).map((c) => c.adapter_weights)).toEqual([[1], [0.6]]);
    // 81 GB free: everything on the GPU, no quantization.
    expect(await only("to")).toEqual([{ call: "to", args: ["cuda"], kwargs: {} }]);
    expect((await only("from_pretrained"))[0]).toMatchObject({ quantization: null });
  });

  it("FLUX.2 klein: Flux2KleinPipeline, and the BFL-named LoRA is converted before load_lora_weights (ostris/ai-toolkit#667)", async () => {
    const gen = await openLocalGenerator(options({}, { model: "flux2-klein-4b", lora: flux2Lora, freeMiB: 12_000 }));
    expect(gen.ready).toMatchObject({ model: "flux2-klein-4b", offload: "model", quantize: "none" });
    const image = await gen.generate(job(1, { width: 768, height: 1024, steps: 50, guidance: 4 }));
    await gen.close();
    expect(await pngSize(image.path)).toEqual({ width: 768, height: 1024 });

    const [load] = await only("from_pretrained");
    expect(load).toMatchObject({ pipeline: "Flux2KleinPipeline", pretrained_model_name_or_path: "black-forest-labs/FLUX.2-klein-base-4B", torch_dtype: "torch.bfloat16" });
    const [lora] = await only("load_lora_weights");
    expect(lora).toMatchObject({ pipeline: "Flux2KleinPipeline", source: "dict", adapter_name: "identity" });
    expect(lora!.keys).toEqual({
      // fused qkv: A shared by q, k and v; B split in three along the output dimension
      "transformer.transformer_blocks.0.attn.to_q.lora_A.weight": [4, 32],
      "transformer.transformer_blocks.0.attn.to_k.lora_A.weight": [4, 32],
      "transformer.transformer_blocks.0.attn.to_v.lora_A.weight": [4, 32],
      "transformer.transformer_blocks.0.attn.to_q.lora_B.weight": [32, 4],
      "transformer.transformer_blocks.0.attn.to_k.lora_B.weight": [32, 4],
      "transformer.transformer_blocks.0.attn.to_v.lora_B.weight": [32, 4],
      "transformer.transformer_blocks.0.attn.to_add_out.lora_A.weight": [4, 32],
      "transformer.transformer_blocks.0.attn.to_add_out.lora_B.weight": [32, 4],
      "transformer.transformer_blocks.4.ff.linear_in.lora_A.weight": [4, 32],
      "transformer.transformer_blocks.4.ff.linear_in.lora_B.weight": [64, 4],
      "transformer.single_transformer_blocks.19.attn.to_qkv_mlp_proj.lora_A.weight": [4, 32],
      "transformer.single_transformer_blocks.19.attn.to_qkv_mlp_proj.lora_B.weight": [160, 4],
      "transformer.single_transformer_blocks.19.attn.to_out.lora_A.weight": [4, 64],
      "transformer.single_transformer_blocks.19.attn.to_out.lora_B.weight": [32, 4],
      "transformer.norm_out.linear.lora_A.weight": [4, 32],
      "transformer.norm_out.linear.lora_B.weight": [64, 4],
    });
    const [call] = await only("__call__");
    expect(call).toMatchObject({ pipeline: "Flux2KleinPipeline", width: 768, height: 1024, num_inference_steps: 50, guidance_scale: 4, generator_seed: 42 });
    expect(call!.extra).toMatchObject({ image: null });
  });

  it("the stand-in, like the diffusers ai-toolkit pins, rejects the unconverted klein file: the conversion is what makes it load", async () => {
    const script = [
      "import diffusers",
      "pipe = diffusers.Flux2KleinPipeline.from_pretrained('x')",
      "try:",
      `    pipe.load_lora_weights(${JSON.stringify(flux2Lora)}, adapter_name='identity')`,
      "except KeyError as e:",
      "    print('KeyError', e)",
    ].join("\n");
    const result = await execa("python3", ["-c", script], { env: { PYTHONPATH: STANDINS, PYTHONDONTWRITEBYTECODE: "1" } });
    expect(result.stdout).toContain("KeyError 'single_blocks.0.linear1.lora_A.weight'");
  });

  it("FLUX.2 dev: Flux2Pipeline, 4-bit NF4 on the transformer and the Mistral text encoder when memory is short", async () => {
    const gen = await openLocalGenerator(options({}, { model: "flux2-dev", lora: flux2Lora, freeMiB: 23_500 }));
    await gen.generate(job(1));
    await gen.close();
    const [load] = await only("from_pretrained");
    expect(load).toMatchObject({
      pipeline: "Flux2Pipeline",
      pretrained_model_name_or_path: "black-forest-labs/FLUX.2-dev",
      quantization: {
        quant_backend: "bitsandbytes_4bit",
        quant_kwargs: { load_in_4bit: true, bnb_4bit_quant_type: "nf4", bnb_4bit_compute_dtype: "torch.bfloat16" },
        components_to_quantize: ["transformer", "text_encoder"],
      },
    });
    expect(await only("enable_model_cpu_offload")).toHaveLength(1);
    expect((await only("__call__"))[0]).toMatchObject({ pipeline: "Flux2Pipeline" });
  });

  it("sequential offload when forced, and HF_TOKEN is passed to from_pretrained", async () => {
    const gen = await openLocalGenerator(options({ HF_TOKEN: "hf_test_token" }, { offload: "sequential" }));
    expect(gen.memory).toMatchObject({ offload: "sequential", quantize: "none", reason: "set by the user" });
    await gen.close();
    expect(await only("enable_sequential_cpu_offload")).toEqual([{ call: "enable_sequential_cpu_offload", gpu_id: null, device: "cuda" }]);
    expect((await only("from_pretrained"))[0]).toMatchObject({ has_token: true, kwargs: ["token", "torch_dtype"] });
  });

  it("an OOM in one job frees the cache and the next job still runs", async () => {
    const gen = await openLocalGenerator(options({ STANDIN_OOM_ON_CALL: "1" }));
    const error = await gen.generate(job(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({ code: "E_LOCAL_GEN_OOM" });
    expect((error as JobFailedError).hint).toContain("--offload sequential");
    const image = await gen.generate(job(2));
    await gen.close();
    expect(await readdir(join(dir, "out"))).toEqual(["2.png"]);
    expect(image.path).toBe(join(dir, "out", "2.png"));
    expect(await only("torch.cuda.empty_cache")).toHaveLength(1);
  });

  it.each([
    ["OOM while loading", { STANDIN_OOM_ON_LOAD: "1" }, JobFailedError, "E_LOCAL_GEN_OOM", /--offload sequential/],
    ["a gated model without a token", { STANDIN_GATED: "1" }, DependencyError, "E_MODEL_ACCESS", /HF_TOKEN/],
    ["no CUDA GPU", { STANDIN_NO_CUDA: "1" }, DependencyError, "E_LOCAL_GEN_DEPENDENCY", /AI_TOOLKIT_PYTHON/],
    ["bitsandbytes missing for 8-bit weights", { STANDIN_NO_BITSANDBYTES: "1" }, DependencyError, "E_LOCAL_GEN_DEPENDENCY", /AI_TOOLKIT_PYTHON/],
  ])("%s: a typed error and exit code 3", async (_name, env, type, code, hint) => {
    const error = await openLocalGenerator(options(env)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code });
    expect((error as JobFailedError).hint).toMatch(hint);
    expect(events.find((e) => e.type === "exit")).toMatchObject({ code: 3 });
  });

  it("a diffusers without Flux2KleinPipeline (the one ai-toolkit pins) is a dependency error naming the version needed", async () => {
    const error = await openLocalGenerator(options({ STANDIN_DIFFUSERS_WITHOUT: "Flux2KleinPipeline" }, { model: "flux2-klein-9b", lora: flux2Lora })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as DependencyError).message).toContain("has no Flux2KleinPipeline (Flux2KleinPipeline needs diffusers 0.37 or newer)");
  });

  it("a Python without torch (this machine without the stand-ins) says to use ai-toolkit's venv", async () => {
    const error = await openLocalGenerator(options({ PYTHONPATH: "" })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as DependencyError).message).toContain("cannot import torch");
    expect((error as DependencyError).hint).toContain("AI_TOOLKIT_PYTHON");
  });

  it("a LoRA that is not a safetensors file, or has keys it cannot map, is a LoRA error", async () => {
    const broken = join(dir, "broken.safetensors");
    await writeFile(broken, "not a safetensors file at all");
    const first = await openLocalGenerator(options({}, { model: "flux2-klein-4b", lora: broken })).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: "E_LORA_INVALID" });
    expect((first as JobFailedError).message).toContain("SafetensorError");

    const lokr = join(dir, "lokr.safetensors");
    await writeSafetensors(lokr, { "diffusion_model.double_blocks.0.img_attn.qkv.lokr_w1": [4, 4] });
    const second = await openLocalGenerator(options({}, { model: "flux2-klein-4b", lora: lokr })).catch((e: unknown) => e);
    expect(second).toMatchObject({ code: "E_LORA_INVALID" });
    expect((second as JobFailedError).message).toContain("diffusion_model.double_blocks.0.img_attn.qkv.lokr_w1");

    const missing = await openLocalGenerator(options({}, { lora: join(dir, "nope.safetensors") })).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: "E_LORA_INVALID" });
  });

  it("Ctrl-C through the engine's signal stops the process mid-job and leaves no partial file", async () => {
    const controller = new AbortController();
    const gen = await openLocalGenerator(options({ STANDIN_STEP_SECONDS: "0.1" }, { signal: controller.signal }));
    const pending = gen.generate(job(1, { steps: 100 }), { onProgress: (step) => step === 3 && controller.abort() });
    await expect(pending).rejects.toBeInstanceOf(InterruptedError);
    await gen.close();
    expect(events.find((e) => e.type === "exit")).toMatchObject({ code: 143 });
    expect(events.filter((e) => e.type === "bye")).toHaveLength(1);
    expect(await readdir(join(dir, "out")).catch(() => [])).toEqual([]);
  });
});

describe("headshot_generate.py on its own", () => {
  const run = (input: string[], env: Record<string, string> = {}) =>
    execa("python3", [generateScriptPath(), "--model", "flux1-schnell", "--base", "black-forest-labs/FLUX.1-schnell", "--lora", flux1Lora], {
      input: input.join("\n") + "\n",
      env: { PYTHONPATH: STANDINS, PYTHONDONTWRITEBYTECODE: "1", STANDIN_RECORD: recordFile(), ...env },
      reject: false,
    });

  it("answers invalid lines with bad_job errors and keeps serving", async () => {
    const out = join(dir, "out", "ok.png");
    const result = await run([
      "not json",
      '{"type":"dance"}',
      JSON.stringify({ type: "job", id: "a", prompt: "p", width: 1024, height: 1024, steps: 4, guidance: 0, seed: 1, out: "relative.png" }),
      JSON.stringify({ type: "job", id: "b", prompt: "p", width: 1024, height: 8, steps: 4, guidance: 0, seed: 1, out }),
      JSON.stringify({ type: "job", id: "c", prompt: "p", width: 1024, height: 1024, steps: "4", guidance: 0, seed: 1, out }),
      JSON.stringify({ type: "job", id: "d", prompt: "p", width: 1024, height: 1024, steps: 4, guidance: 0, seed: 1, out }),
      JSON.stringify({ type: "shutdown" }),
    ]);
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const errors = lines.filter((l) => l.type === "error");
    expect(errors.map((e) => [e.id, e.code])).toEqual([
      [undefined, "bad_job"],
      [undefined, "bad_job"],
      ["a", "bad_job"],
      ["b", "bad_job"],
      ["c", "bad_job"],
    ]);
    expect(String(errors[2]!.message)).toContain("absolute path");
    expect(String(errors[3]!.message)).toContain("height must be between 64 and 4096");
    expect(lines.filter((l) => l.type === "image")).toEqual([{ type: "image", id: "d", path: out, width: 1024, height: 1024, seed: 1 }]);
    expect(lines.at(-1)).toEqual({ type: "bye" });
  });

  it("exits 130 on SIGINT mid-job, says bye, and leaves no file or temp file", async () => {
    const out = join(dir, "out", "x.png");
    const child = execa("python3", [generateScriptPath(), "--model", "flux1-dev", "--base", "b", "--lora", flux1Lora], {
      env: { PYTHONPATH: STANDINS, PYTHONDONTWRITEBYTECODE: "1", STANDIN_STEP_SECONDS: "0.1" },
      reject: false,
      buffer: { stdout: true, stderr: true },
    });
    child.stdin!.write(JSON.stringify({ type: "job", id: "x", prompt: "p", width: 512, height: 512, steps: 100, guidance: 3, seed: 1, out }) + "\n");
    await new Promise<void>((resolve) => {
      child.stdout!.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes('"progress"')) resolve();
      });
    });
    const sentAt = Date.now();
    child.kill("SIGINT");
    const result = await child;
    expect(Date.now() - sentAt).toBeLessThan(3_000);
    expect(result.exitCode).toBe(130);
    expect(String(result.stdout).trim().split("\n").at(-1)).toBe('{"type":"bye"}');
    expect(await readdir(join(dir, "out")).catch(() => [])).toEqual([]);
  });

  it.each([
    [["--model", "sdxl", "--base", "b", "--lora", "l"], "invalid choice: 'sdxl'"],
    [["--model", "flux1-dev", "--base", "b", "--lora", "l", "--offload", "sequential", "--quantize", "4bit"], "cannot be combined"],
  ])("bad arguments %j exit 2", async (args, message) => {
    const result = await execa("python3", [generateScriptPath(), ...args], { reject: false, env: { PYTHONPATH: STANDINS, PYTHONDONTWRITEBYTECODE: "1" } });
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(message);
  });
});
