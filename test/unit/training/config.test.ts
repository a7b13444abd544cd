import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { buildChildEnv, buildJobConfig, buildRunCommand, renderJobYaml } from "../../../src/training/ai-toolkit/config.js";
import { buildTrainPlan, type TrainPlanInput } from "../../../src/training/plan.js";
import { RECIPE_IDS } from "../../../src/training/recipes.js";

const EXAMPLES = join(import.meta.dirname, "..", "..", "fixtures", "ai-toolkit-examples");
const example = (file: string): Record<string, unknown> => parse(readFileSync(join(EXAMPLES, file), "utf8")) as Record<string, unknown>;
const RTX4090 = { index: 0, name: "NVIDIA GeForce RTX 4090", totalMiB: 24564, freeMiB: 24100 };
const A100_80 = { index: 0, name: "NVIDIA A100 80GB", totalMiB: 81920, freeMiB: 81000 };

function plan(over: Partial<TrainPlanInput> = {}) {
  return buildTrainPlan({ name: "jane", home: "/home/u/.local/share/headshot", selfiesDir: "/home/u/selfies", gpu: RTX4090, ...over });
}

type Obj = Record<string, unknown>;
const proc = (job: Obj): Obj => ((job.config as Obj).process as Obj[])[0] as Obj;

/** Every key path of a plain object (lists are leaves). */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [prefix];
  return Object.entries(value as Obj).flatMap(([k, v]) => keyPaths(v, prefix ? `${prefix}.${k}` : k));
}

// Keys that the upstream example has commented out (trigger_word, skip_first_sample, low_vram,
// disable_sampling) or documents in ostris/ai-toolkit config/examples/train_lora_flux_24gb.yaml; ostris/ai-toolkit ui/src/app/jobs/new/options.tsx, plus our own meta.
const DOCUMENTED_EXTRAS = new Set([
  "config.process.trigger_word",
  "config.process.train.skip_first_sample",
  "config.process.train.disable_sampling",
  "config.process.train.timestep_type",
  "config.process.model.low_vram",
  "config.process.model.arch",
  "config.process.model.quantize_te",
  "config.process.model.model_kwargs.match_target_res",
  "meta.headshot_version",
  "meta.headshot_recipe",
  "meta.headshot_trigger",
  "meta.headshot_class",
]);

function flatten(job: Obj): Obj {
  return { job: job.job, config: { name: (job.config as Obj).name, process: proc(job) }, meta: job.meta };
}

describe("generated FLUX.1 configs keep the upstream examples' shape", () => {
  for (const [recipe, file] of [
    ["flux1-dev", "train_lora_flux_24gb.yaml"],
    ["flux1-schnell", "train_lora_flux_schnell_24gb.yaml"],
  ] as const) {
    it(`${recipe} vs ${file}`, () => {
      const ours = buildJobConfig(plan({ recipe }));
      const theirs = example(file);
      const ourPaths = keyPaths(flatten(ours as unknown as Obj));
      const theirPaths = new Set(keyPaths(flatten(theirs)));
      // Nothing invented: every key exists upstream or is a documented optional key.
      expect(ourPaths.filter((p) => !theirPaths.has(p) && !DOCUMENTED_EXTRAS.has(p))).toEqual([]);
      // Nothing dropped: every upstream key is present (except the device, which we keep too).
      expect([...theirPaths].filter((p) => !ourPaths.includes(p))).toEqual([]);

      const a = proc(ours as unknown as Obj);
      const b = proc(theirs);
      expect(ours.job).toBe(theirs.job);
      expect(a.type).toBe(b.type);
      for (const section of ["network", "save", "train", "model", "sample"]) {
        const mine = a[section] as Obj;
        const up = b[section] as Obj;
        // Fixed values we do not tune must equal the example's.
        for (const key of ["type", "dtype", "gradient_accumulation_steps", "train_unet", "train_text_encoder", "gradient_checkpointing", "noise_scheduler", "optimizer", "ema_config", "batch_size", "name_or_path", "is_flux", "assistant_lora_path", "sampler", "guidance_scale", "sample_steps", "width", "height", "neg", "walk_seed", "push_to_hub", "max_step_saves_to_keep", "seed"]) {
          if (key in up) expect([section, key, mine[key]]).toEqual([section, key, up[key]]);
        }
      }
      const ds = (a.datasets as Obj[])[0] as Obj;
      const upDs = (b.datasets as Obj[])[0] as Obj;
      for (const key of ["caption_ext", "caption_dropout_rate", "shuffle_tokens", "cache_latents_to_disk", "resolution"]) expect(ds[key]).toEqual(upDs[key]);
      expect((a.train as Obj).lr).toBe(1e-4);
      expect(ours.meta.name).toBe("[name]");
    });
  }
});

describe("FLUX.2 configs follow ostris/ai-toolkit ui/src/app/jobs/new/options.tsx", () => {
  const cases = [
    ["flux2-dev", "flux2", "black-forest-labs/FLUX.2-dev"],
    ["flux2-klein-4b", "flux2_klein_4b", "black-forest-labs/FLUX.2-klein-base-4B"],
    ["flux2-klein-9b", "flux2_klein_9b", "black-forest-labs/FLUX.2-klein-base-9B"],
  ] as const;
  for (const [recipe, arch, repo] of cases) {
    it(recipe, () => {
      const p = proc(buildJobConfig(plan({ recipe, gpu: A100_80 })) as unknown as Obj);
      const model = p.model as Obj;
      expect(model.arch).toBe(arch);
      expect(model.name_or_path).toBe(repo);
      expect(model).not.toHaveProperty("is_flux");
      expect(model.low_vram).toBe(true);
      expect(model.quantize).toBe(true);
      expect(model.quantize_te).toBe(true);
      expect(model.model_kwargs).toEqual({ match_target_res: false });
      expect((p.train as Obj).timestep_type).toBe("weighted");
      expect((p.train as Obj).noise_scheduler).toBe("flowmatch");
      expect((p.sample as Obj).sampler).toBe("flowmatch");
    });
  }
});

describe("FLUX.2-dev memory floor: the 24B Mistral text encoder is loaded to the GPU in bf16 before quantizing", () => {
  it.each([
    ["RTX 4090 (24 GB)", RTX4090],
    ["A100 40 GB", { index: 0, name: "NVIDIA A100 40GB", totalMiB: 40960, freeMiB: 40400 }],
    ["48 GB card with a desktop on it", { index: 0, name: "NVIDIA RTX A6000", totalMiB: 49140, freeMiB: 46000 }],
  ])("refuses on %s (exit 3) and names klein and Replicate", (_label, gpu) => {
    expect(() => plan({ recipe: "flux2-dev", gpu })).toThrow(
      expect.objectContaining({ code: "E_GPU_TOO_SMALL", exitCode: 3, hint: expect.stringMatching(/--model flux2-klein-4b.*--backend replicate/) }),
    );
    // Even with quantization asked for: the bf16 load comes first.
    expect(() => plan({ recipe: "flux2-dev", gpu, quantize: true, lowVram: true })).toThrow(expect.objectContaining({ code: "E_GPU_TOO_SMALL" }));
  });

  it("accepts a free 48 GB card and larger; klein and FLUX.1 keep their own floors", () => {
    expect(plan({ recipe: "flux2-dev", gpu: { index: 0, name: "NVIDIA RTX A6000", totalMiB: 49140, freeMiB: 48900 } }).recipe.id).toBe("flux2-dev");
    expect(plan({ recipe: "flux2-dev", gpu: A100_80 }).recipe.id).toBe("flux2-dev");
    expect(plan({ recipe: "flux2-klein-4b" }).recipe.id).toBe("flux2-klein-4b");
    expect(plan({ recipe: "flux1-dev" }).recipe.id).toBe("flux1-dev");
  });
});

describe("face defaults and flags", () => {
  it("uses face defaults for every recipe: rank 16-32, lr 1e-4, 1000-2000 steps, 512/768/1024, dropout 0.05, bf16", () => {
    for (const recipe of RECIPE_IDS) {
      const p = proc(buildJobConfig(plan({ recipe, gpu: A100_80 })) as unknown as Obj);
      const network = p.network as Obj;
      const train = p.train as Obj;
      expect(network.linear).toBeGreaterThanOrEqual(16);
      expect(network.linear).toBeLessThanOrEqual(32);
      expect(network.linear_alpha).toBe(network.linear);
      expect(train.lr).toBe(1e-4);
      expect(train.steps).toBeGreaterThanOrEqual(1000);
      expect(train.steps).toBeLessThanOrEqual(2000);
      expect(train.dtype).toBe("bf16");
      expect(((p.datasets as Obj[])[0] as Obj).resolution).toEqual([512, 768, 1024]);
      expect(((p.datasets as Obj[])[0] as Obj).caption_dropout_rate).toBe(0.05);
      expect(p.trigger_word).toBe("ohwx");
      expect((p.save as Obj).save_every).toBe(250);
    }
  });

  it("applies --steps --rank --lr --trigger --sample-every and builds prompts with [trigger]", () => {
    const p = proc(buildJobConfig(plan({ steps: 1200, rank: 24, lr: 4e-4, trigger: "zxq", sampleEvery: 300, classWord: "woman" })) as unknown as Obj);
    expect((p.train as Obj).steps).toBe(1200);
    expect((p.network as Obj).linear).toBe(24);
    expect((p.train as Obj).lr).toBe(4e-4);
    expect(p.trigger_word).toBe("zxq");
    const sample = p.sample as Obj;
    expect(sample.sample_every).toBe(300);
    const prompts = sample.prompts as string[];
    expect(prompts.length).toBeGreaterThan(0);
    for (const prompt of prompts) expect(prompt).toMatch(/\[trigger\] woman/);
  });

  it("takes sample prompts from the caller (the preset seam)", () => {
    const p = proc(buildJobConfig(plan({ samplePrompts: ["[trigger] on a beach"] })) as unknown as Obj);
    expect((p.sample as Obj).prompts).toEqual(["[trigger] on a beach"]);
  });

  it("--sample-every 0 disables sampling", () => {
    const p = proc(buildJobConfig(plan({ sampleEvery: 0, steps: 1000 })) as unknown as Obj);
    expect((p.train as Obj).disable_sampling).toBe(true);
  });

  it("chooses memory switches from the detected GPU", () => {
    expect(plan().lowVram).toBe(false);
    expect(plan().quantize).toBe(true);
    // A desktop holding 2 GB of the card: low_vram, as the upstream example advises for displays.
    expect(plan({ gpu: { ...RTX4090, freeMiB: 21000 } }).lowVram).toBe(true);
    const h100 = plan({ gpu: { index: 0, name: "NVIDIA H100 80GB HBM3", totalMiB: 81559, freeMiB: 81000 } });
    expect([h100.lowVram, h100.quantize]).toEqual([false, true]);
    const b200 = plan({ gpu: { index: 0, name: "NVIDIA B200", totalMiB: 183359, freeMiB: 183000 } });
    expect(b200.quantize).toBe(false);
    const small = plan({ gpu: { index: 0, name: "NVIDIA GeForce RTX 4070", totalMiB: 12282, freeMiB: 12000 } });
    expect(small.lowVram).toBe(true);
    expect(small.warnings.join(" ")).toMatch(/out of memory/);
    expect(plan({ lowVram: true, quantize: false })).toMatchObject({ lowVram: true, quantize: false });
  });

  it("rejects bad flags with every problem at once", () => {
    expect(() => plan({ steps: 0, rank: 500, lr: 5, trigger: "two words" })).toThrow(/4 problems/);
    expect(() => plan({ recipe: "flux1-dve" })).toThrow(/unknown base model/);
    expect(() => plan({ resolutions: [500] })).toThrow(/divisible by 32/);
    expect(() => plan({ name: "jane_cn" })).toThrow(/resuming/);
    expect(() => plan({ name: "../x" })).toThrow(/invalid identity name/);
  });
});

describe("YAML text, command and environment", () => {
  it("writes YAML that parses back to the same job, with plain numbers and absolute paths", () => {
    const p = plan();
    const text = renderJobYaml(p);
    expect(parse(text)).toEqual(buildJobConfig(p));
    expect(text).toContain("lr: 0.0001");
    expect(text).toContain(`training_folder: ${p.paths.trainingFolder}`);
    expect(p.paths.trainingFolder.startsWith("/")).toBe(true);
    expect(p.paths.finalLora).toBe("/home/u/.local/share/headshot/identities/jane/training/jane/jane.safetensors");
  });

  it("refuses text that ai-toolkit would expand as ${VAR}", () => {
    expect(() => renderJobYaml(plan({ home: "/tmp/${HOME}/h" }))).toThrow(/expand/);
  });

  it("builds an argv with absolute paths, -l with a directory, and never -r", () => {
    const p = plan();
    const cmd = buildRunCommand(p, { dir: "/opt/ai-toolkit", python: "/opt/ai-toolkit/venv/bin/python", runPy: "/opt/ai-toolkit/run.py" });
    expect(cmd).toEqual({ file: "/opt/ai-toolkit/venv/bin/python", args: ["/opt/ai-toolkit/run.py", p.paths.jobConfig, "-l", p.paths.log], cwd: "/opt/ai-toolkit" });
    expect(cmd.args).not.toContain("-r");
  });

  it("sets PYTHONUNBUFFERED, CUDA_VISIBLE_DEVICES from --gpu, passes HF_TOKEN and drops the Replicate token", () => {
    const env = buildChildEnv(plan({ gpuIds: "1" }), { PATH: "/usr/bin", HF_TOKEN: "hf_x", REPLICATE_API_TOKEN: "r8_secret" });
    expect(env).toMatchObject({ PYTHONUNBUFFERED: "1", CUDA_VISIBLE_DEVICES: "1", CUDA_DEVICE_ORDER: "PCI_BUS_ID", HF_TOKEN: "hf_x", PATH: "/usr/bin" });
    expect(env).not.toHaveProperty("REPLICATE_API_TOKEN");
    expect(buildChildEnv(plan(), {})).not.toHaveProperty("CUDA_VISIBLE_DEVICES");
  });
});
