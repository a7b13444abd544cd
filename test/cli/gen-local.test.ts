/**
 * `headshot gen --backend local` end to end, in-process: an identity trained with the real
 * `headshot train --backend local` flow (fake ai-toolkit checkout), then the real batch engine,
 * manifest, writer and the real src/generation/local/headshot_generate.py run by the machine's python3
 * with the stand-in torch/diffusers/safetensors first on PYTHONPATH (test/support/python-standins),
 * which record every call. The fake nvidia-smi (test/support/fake-bin, FAKE_GPU) reports free memory.
 */
import { createHash } from "node:crypto";
import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import exifr from "exifr";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Identity } from "../../src/identity/registry.js";
import { readXmpFields } from "../../src/generation/xmp.js";
import { fakeEnv, makeFakeCheckout } from "../support/fake-ai-toolkit/harness.js";
import { readJsonLines } from "../support/fake-local-gen/files.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { astronaut, writeAll } from "../support/selfies/build.js";

const STANDINS = fileURLToPath(new URL("../support/python-standins", import.meta.url));
const GPU_24G = "NVIDIA GeForce RTX 4090,24564,24100";
const GPU_10G = "NVIDIA RTX A2000,12282,10240";

// Parsed JSON (CLI lines, manifest, recorded calls), read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let baseEnv: Record<string, string | undefined>;
let identity: Identity;
let n = 0;

beforeAll(async () => {
  ws = await tempWorkspace("headshot-gen-local-");
  const toolkit = await makeFakeCheckout(ws.dir);
  baseEnv = { ...fakeEnv(), HOME: ws.dir, HEADSHOT_HOME: ws.home, AI_TOOLKIT_DIR: toolkit };
  await writeAll(join(ws.dir, "selfies"), {
    "a-full.jpg": await astronaut({ size: 1100 }),
    "a-flip.jpg": await astronaut({ region: { left: 60, top: 0, width: 452, height: 452 }, flip: true, size: 1150 }),
    "a-relit.jpg": await astronaut({ region: { left: 0, top: 10, width: 400, height: 480 }, brightness: 1.15, size: 1100 }),
    "a-rotated.jpg": await astronaut({ region: { left: 16, top: 0, width: 480, height: 480 }, rotate: 7, size: 1100 }),
    "a-tight.jpg": await astronaut({ region: { left: 110, top: 10, width: 280, height: 300 }, size: 1050 }),
    "a-left.jpg": await astronaut({ region: { left: 20, top: 0, width: 470, height: 500 }, size: 1080 }),
  });
  const trained = await runCli(["train", "./selfies", "--name", "jane", "--backend", "local", "--steps", "10", "--class", "woman"], { cwd: ws.dir, env: baseEnv });
  expect(trained.code, trained.stderr).toBe(0);
  identity = JSON.parse(await readFile(join(ws.home, "identities", "jane", "identity.json"), "utf8")) as Identity;
}, 60_000);
afterAll(async () => {
  await ws.cleanup();
});

/** A fresh output folder and call record per scenario; the standard local environment. */
function scenario(over: Record<string, string | undefined> = {}) {
  n += 1;
  const out = join(ws.dir, `out-${n}`);
  const record = join(ws.dir, `calls-${n}.jsonl`);
  const env = {
    ...baseEnv,
    AI_TOOLKIT_PYTHON: "python3",
    PYTHONPATH: STANDINS,
    PYTHONDONTWRITEBYTECODE: "1",
    STANDIN_RECORD: record,
    FAKE_GPU: GPU_24G,
    ...over,
  };
  const args = (extra: string[] = []) => ["gen", "--preset", "corporate", "--identity", "jane", "--backend", "local", "--count", "3", "--seed", "7", "--out", out, ...extra];
  const calls = async (name?: string) => (await readJsonLines<Json>(record)).filter((c) => name === undefined || c.call === name);
  return { out, record, env, args, calls };
}

async function manifestEntries(out: string): Promise<Json[]> {
  const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Json;
  return Object.values(manifest.images as Json).sort((a: Json, b: Json) => a.index - b.index) as Json[];
}

describe("headshot gen --backend local", () => {
  it("generates on the GPU with the identity's LoRA: files, metadata, manifest, recorded diffusers calls; a re-run skips", async () => {
    const s = scenario({ HF_TOKEN: "hf_test_token" });
    const r = await runCli(["--json", ...s.args()], { cwd: ws.dir, env: s.env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const lines = r.json();
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: true, total: 3, done: 3, made: 3, skipped: 0, model: "local" });

    // The GPU was asked, and 24 GB free picked model offload with 8-bit weights for FLUX.1-dev.
    expect(lines.find((l) => l.type === "gen.local.gpu")).toMatchObject({ gpu: { index: 0, name: "NVIDIA GeForce RTX 4090", freeMiB: 24100 } });
    expect(lines.find((l) => l.type === "gen.local.memory")).toMatchObject({ freeMiB: 24100, offload: "model", quantize: "8bit" });
    expect(lines.find((l) => l.type === "gen.local.python")).toMatchObject({ python: "python3", from: "AI_TOOLKIT_PYTHON" });
    expect(lines.find((l) => l.type === "gen.local.ready")).toMatchObject({ model: "flux1-dev", device: "cuda", offload: "model", quantize: "8bit" });
    expect(lines.some((l) => l.type === "gen.local.loading")).toBe(true);
    const steps = lines.filter((l) => l.type === "gen.local.step");
    expect(steps.filter((l) => l.step === l.total)).toHaveLength(3);
    expect(steps[0]).toMatchObject({ attempt: 1, step: 1, total: 45 });
    expect(lines.some((l) => l.type === "gen.local.log")).toBe(false);

    // One model load for the batch: the identity's recipe and base, bf16, its LoRA, token from HF_TOKEN.
    const [load, ...moreLoads] = await s.calls("from_pretrained");
    expect(moreLoads).toEqual([]);
    expect(load).toMatchObject({
      pipeline: "FluxPipeline",
      pretrained_model_name_or_path: identity.baseModel,
      torch_dtype: "torch.bfloat16",
      quantization: { quant_backend: "bitsandbytes_8bit", components_to_quantize: ["transformer", "text_encoder_2"] },
      has_token: true,
    });
    expect(await s.calls("load_lora_weights")).toEqual([expect.objectContaining({ source: "path", path: identity.lora.path, adapter_name: "identity" })]);
    expect(await s.calls("enable_model_cpu_offload")).toHaveLength(1);

    // Seeds 7, 8, 9 through torch.Generator(device).manual_seed; the preset's size (4:5, multiples of 16), steps, guidance.
    const pipelineCalls = await s.calls("__call__");
    expect(pipelineCalls.map((c) => c.generator_seed)).toEqual([7, 8, 9]);
    expect((await s.calls("torch.Generator.manual_seed")).map((c) => [c.device, c.seed])).toEqual([["cuda", 7], ["cuda", 8], ["cuda", 9]]);
    for (const c of pipelineCalls) {
      expect(c).toMatchObject({ pipeline: "FluxPipeline", num_inference_steps: 45, guidance_scale: 2.5, adapters: { identity: 1 } });
      expect(c.width % 16).toBe(0);
      expect(c.height % 16).toBe(0);
      expect(c.width / c.height).toBeCloseTo(4 / 5, 1);
      expect(c.prompt).toContain(identity.trigger);
    }

    // Files named <preset>-<variation>-<index>-<seed>.png, sha256 in the manifest, sidecars, XMP, no EXIF.
    const entries = await manifestEntries(s.out);
    expect(entries.map((e) => [e.status, e.seed])).toEqual([["done", 7], ["done", 8], ["done", 9]]);
    const files = await readdir(s.out);
    expect(files.filter((f) => f.endsWith(".png") && f !== "contact-sheet.png")).toHaveLength(3);
    expect(files.filter((f) => f.startsWith(".headshot-tmp-"))).toEqual([]);
    for (const [i, entry] of entries.entries()) {
      expect(entry.file).toMatch(new RegExp(`^corporate-[a-z0-9-]+-${String(entry.index).padStart(3, "0")}-${entry.seed}\\.png$`));
      const bytes = await readFile(join(s.out, entry.file));
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(entry.sha256);
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe("png");
      expect([meta.width, meta.height]).toEqual([pipelineCalls[i]!.width, pipelineCalls[i]!.height]);
      expect(meta.exif).toBeUndefined();
      expect(bytes.includes(Buffer.from("eXIf"))).toBe(false);
      expect(await exifr.parse(bytes, { tiff: true, ihdr: false, xmp: false, iptc: false, icc: false }).catch(() => undefined)).toBeUndefined();
      const xmp = readXmpFields(meta.xmp?.toString("utf8") ?? "");
      // A real (not placeholder) image from a trained model: the same labelling as on Replicate.
      expect(xmp.DigitalSourceType).toBe("http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia");
      expect(xmp.placeholder).not.toBe("True");
      expect(xmp.seed).toBe(String(entry.seed));
      const sidecar = JSON.parse(await readFile(join(s.out, entry.sidecar), "utf8")) as Json;
      expect(sidecar).toMatchObject({ file: entry.file, sha256: entry.sha256, seed: entry.seed });
    }

    // Re-run: everything is done, so no model load and no pipeline call at all.
    const again = await runCli(["--json", ...s.args()], { cwd: ws.dir, env: s.env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().at(-1)).toMatchObject({ done: 3, made: 0, skipped: 3 });
    expect(await s.calls("__call__")).toHaveLength(3);
    expect(await s.calls("from_pretrained")).toHaveLength(1);
  });

  it("picks a lower memory mode for 10 GB free on the GPU --gpu names, and hands the child only the right environment", async () => {
    // A wrapper interpreter (process boundary) logs the environment Python is started with.
    const envLog = join(ws.dir, "child-env.log");
    const wrapper = join(ws.dir, "python-wrapper.sh");
    await writeFile(wrapper, `#!/bin/sh\n{ echo "---"; env | grep -E '^(CUDA_VISIBLE_DEVICES|CUDA_DEVICE_ORDER|PYTHONUNBUFFERED|REPLICATE_API_TOKEN|HF_TOKEN)=' | sort; } >> "${envLog}"\nexec python3 "$@"\n`);
    await chmod(wrapper, 0o755);
    const s = scenario({ FAKE_GPU: `${GPU_24G};${GPU_10G}`, AI_TOOLKIT_PYTHON: wrapper, REPLICATE_API_TOKEN: "r8_secret_never_passed", HF_TOKEN: "hf_x" });
    const r = await runCli(s.args(["--gpu", "1", "--count", "1"]), { cwd: ws.dir, env: s.env });
    expect(r.code, r.stderr).toBe(0);
    // Human lines: which GPU, the chosen mode and why, the model loading.
    expect(r.stderr).toContain("GPU 1: NVIDIA RTX A2000, 10.0 GiB of 12.0 GiB free.");
    expect(r.stderr).toMatch(/Memory mode: offload model, quantize 4bit \(model CPU offload with 4-bit weights: needs about [\d.]+ GiB, 10\.0 GiB free\)\./);
    expect(r.stderr).toContain("Model flux1-dev ready on cuda.");
    expect(r.stdout).not.toContain("r8_secret");
    const [load] = await s.calls("from_pretrained");
    expect(load?.quantization).toMatchObject({ quant_backend: "bitsandbytes_4bit" });
    const runs = (await readFile(envLog, "utf8")).split("---\n").filter(Boolean);
    expect(runs.length).toBe(2); // the preflight probe and the generator
    for (const run of runs) {
      expect(run.split("\n").filter(Boolean)).toEqual(["CUDA_DEVICE_ORDER=PCI_BUS_ID", "CUDA_VISIBLE_DEVICES=1", "HF_TOKEN=hf_x", "PYTHONUNBUFFERED=1"]);
    }
  });

  it("--offload and --quantize override the choice; misuse is a usage error", async () => {
    const s = scenario({ FAKE_GPU: GPU_10G });
    const r = await runCli(["--json", ...s.args(["--count", "1", "--offload", "sequential"])], { cwd: ws.dir, env: s.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().find((l) => l.type === "gen.local.memory")).toMatchObject({ offload: "sequential", quantize: "none", reason: "set by the user" });
    expect(await s.calls("enable_sequential_cpu_offload")).toHaveLength(1);
    expect((await s.calls("from_pretrained"))[0]).toMatchObject({ quantization: null });

    const both = await runCli(s.args(["--offload", "sequential", "--quantize", "4bit"]), { cwd: ws.dir, env: s.env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--offload sequential cannot be combined with --quantize 4bit");
    const elsewhere = await runCli(["gen", "--preset", "corporate", "--backend", "test", "--count", "1", "--quantize", "8bit"], { cwd: ws.dir, env: s.env });
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain("--quantize only applies to --backend local");
    const badMode = await runCli(s.args(["--offload", "disk"]), { cwd: ws.dir, env: s.env });
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain("--offload must be one of none, model, sequential");
  });

  it("out of memory on one image: the others land, exit 5 with the hint; a re-run makes only that one", async () => {
    const s = scenario({ STANDIN_OOM_ON_CALL: "2" });
    const r = await runCli(s.args(), { cwd: ws.dir, env: s.env });
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain("GPU out of memory");
    expect(r.stderr).toContain("--offload sequential");
    expect(r.stderr).toContain("--quantize 4bit");
    expect(r.stderr).toContain("re-run");
    const entries = await manifestEntries(s.out);
    expect(entries.map((e) => e.status)).toEqual(["done", "failed", "done"]);
    expect(entries[1]?.error).toMatchObject({ code: "E_LOCAL_GEN_OOM" });
    expect((await readdir(s.out)).filter((f) => f.endsWith(".png"))).toHaveLength(2);
    // The process survived the OOM: one load served all three jobs.
    expect(await s.calls("from_pretrained")).toHaveLength(1);

    const again = await runCli(["--json", ...s.args()], { cwd: ws.dir, env: { ...s.env, STANDIN_OOM_ON_CALL: undefined } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().at(-1)).toMatchObject({ done: 3, made: 1, skipped: 2 });
    expect((await s.calls("__call__")).map((c) => c.generator_seed)).toEqual([7, 8, 9, 8]);
  });

  it("Ctrl-C stops Python mid-image: exit 130, no half-written file; the re-run completes", async () => {
    const s = scenario({ STANDIN_STEP_SECONDS: "0.02" });
    const controller = new AbortController();
    // Abort once the second image is being denoised (its pipeline call is recorded).
    const watcher = setInterval(() => {
      void s.calls("__call__").then((c) => {
        if (c.length >= 2) controller.abort();
      });
    }, 20);
    const r = await runCli(s.args(), { cwd: ws.dir, env: s.env, signal: controller.signal });
    clearInterval(watcher);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain("re-run");
    const entries = await manifestEntries(s.out);
    expect(entries[0]?.status).toBe("done");
    expect(entries[1]?.status).not.toBe("done");
    const all = await readdir(s.out, { recursive: true });
    expect(all.filter((f) => f.includes(".headshot-tmp-"))).toEqual([]);
    expect(all.filter((f) => f.endsWith(".png") && !f.includes("/"))).toEqual([entries[0]?.file]);

    const again = await runCli(["--json", ...s.args()], { cwd: ws.dir, env: { ...s.env, STANDIN_STEP_SECONDS: undefined } });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json().at(-1)).toMatchObject({ done: 3, skipped: 1, made: 2 });
  });

  it("a Python without torch fails before loading: exit 3 with the AI_TOOLKIT_PYTHON fix", async () => {
    const s = scenario({ PYTHONPATH: undefined });
    const r = await runCli(s.args(), { cwd: ws.dir, env: s.env });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain("python3 (Python 3.");
    expect(r.stderr).toContain("has no torch, diffusers, safetensors");
    expect(r.stderr).toContain("AI_TOOLKIT_PYTHON");
    expect(await s.calls()).toEqual([]);
    const missing = await runCli(s.args(), { cwd: ws.dir, env: { ...s.env, AI_TOOLKIT_PYTHON: join(ws.dir, "no-such-python") } });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("no-such-python");
    // Without AI_TOOLKIT_PYTHON the checkout's venv is used, as in training (--ai-toolkit over AI_TOOLKIT_DIR);
    // the fake checkout's venv has torch only.
    const checkout = await makeFakeCheckout(join(ws.dir, "other-checkout"));
    const venv = await runCli(["--json", ...s.args(["--ai-toolkit", checkout])], { cwd: ws.dir, env: { ...s.env, AI_TOOLKIT_PYTHON: undefined, AI_TOOLKIT_DIR: "/nowhere" } });
    expect(venv.code).toBe(3);
    expect(venv.json().find((l) => l.type === "gen.local.python")).toEqual({ type: "gen.local.python", python: join(checkout, "venv", "bin", "python"), from: "venv/ in the checkout" });
    expect(venv.json().at(-1)).toMatchObject({ ok: false, error: { code: "E_LOCAL_GEN_DEPENDENCY", message: expect.stringContaining("has no diffusers, safetensors") } });
  });
});
