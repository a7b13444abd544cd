/**
 * Plan -> ai-toolkit job config (object + YAML text) and the exact run.py command. Pure.
 *
 * FLUX.1 keeps the shape of upstream `config/examples/train_lora_flux_24gb.yaml` (ostris/ai-toolkit
 * ostris/ai-toolkit config/examples/train_lora_flux_24gb.yaml/2.3): `job: extension`, `config.name`, one `sd_trainer` process with
 * training_folder, trigger_word, network, save, datasets, train, model, sample, and `meta`.
 * FLUX.2 is that shape with `arch` instead of `is_flux` plus the UI defaults (ostris/ai-toolkit ui/src/app/jobs/new/options.tsx).
 */
import { stringify } from "yaml";
import { UsageError } from "../../errors.js";
import { VERSION } from "../../version.js";
import type { TrainPlan } from "../plan.js";

export interface AiToolkitJob {
  job: "extension";
  config: { name: string; process: [Record<string, unknown>] };
  meta: Record<string, string>;
}

/** The `train:` section: optimiser, learning rate, sampling switch, EMA. */
function trainSection(plan: TrainPlan): Record<string, unknown> {
  const { recipe } = plan;
  const sampling = plan.sampleEvery > 0;
  return {
    batch_size: 1,
    steps: plan.steps,
    gradient_accumulation_steps: 1,
    train_unet: true,
    train_text_encoder: false,
    gradient_checkpointing: true,
    noise_scheduler: "flowmatch",
    optimizer: "adamw8bit",
    // The code default is 1e-6, far too low: always set it (ostris/ai-toolkit config/examples/train_lora_flux_24gb.yaml).
    lr: plan.lr,
    // The baseline sample set before step 1 costs minutes and shows the untrained model (hardware reports in ostris/ai-toolkit issues).
    skip_first_sample: true,
    ...(sampling ? {} : { disable_sampling: true }),
    ...(recipe.timestepType ? { timestep_type: recipe.timestepType } : {}),
    ema_config: { use_ema: true, ema_decay: 0.99 },
    dtype: "bf16",
  };
}

/** The `model:` section: the base model of the recipe, quantisation and memory mode. */
function modelSection(plan: TrainPlan): Record<string, unknown> {
  const { recipe } = plan;
  return {
    name_or_path: recipe.model.name_or_path,
    ...(recipe.model.is_flux ? { is_flux: true } : {}),
    ...(recipe.model.arch ? { arch: recipe.model.arch } : {}),
    ...(recipe.model.assistant_lora_path ? { assistant_lora_path: recipe.model.assistant_lora_path } : {}),
    quantize: plan.quantize,
    // quantize_te defaults to quantize; the FLUX.2 UI sets it explicitly (ostris/ai-toolkit ui/src/app/jobs/new/options.tsx).
    ...(recipe.model.arch ? { quantize_te: plan.quantize } : {}),
    low_vram: plan.lowVram,
    ...(recipe.modelKwargs ? { model_kwargs: recipe.modelKwargs } : {}),
  };
}

/** The `sample:` section: progress samples every `sampleEvery` steps (never, past the last step). */
function sampleSection(plan: TrainPlan): Record<string, unknown> {
  return {
    sampler: "flowmatch",
    sample_every: plan.sampleEvery > 0 ? plan.sampleEvery : plan.steps + 1,
    sample_start_step: 0,
    width: 1024,
    height: 1024,
    prompts: plan.samplePrompts,
    neg: "",
    seed: 42,
    walk_seed: true,
    guidance_scale: plan.recipe.sample.guidance_scale,
    sample_steps: plan.recipe.sample.sample_steps,
  };
}

export function buildJobConfig(plan: TrainPlan): AiToolkitJob {
  const { recipe } = plan;
  const process: Record<string, unknown> = {
    type: "sd_trainer",
    training_folder: plan.paths.trainingFolder,
    // Ignored by the trainer (it uses the accelerate device); the GPU is picked with
    // CUDA_VISIBLE_DEVICES (ostris/ai-toolkit run.py (.env) and extensions_built_in/diffusion_models/flux2/flux2_model.py (HF_TOKEN)). Kept to match the upstream shape.
    device: "cuda:0",
    // Set, so `[trigger]` in sample prompts is replaced rather than rendered literally (ostris/ai-toolkit#54).
    trigger_word: plan.trigger,
    network: { type: "lora", linear: plan.rank, linear_alpha: plan.rank },
    save: { dtype: "float16", save_every: plan.saveEvery, max_step_saves_to_keep: plan.maxCheckpoints, push_to_hub: false },
    datasets: [
      {
        folder_path: plan.paths.datasetDir,
        caption_ext: "txt",
        caption_dropout_rate: plan.captionDropout,
        shuffle_tokens: false,
        cache_latents_to_disk: true,
        resolution: plan.resolutions,
      },
    ],
    train: trainSection(plan),
    model: modelSection(plan),
    sample: sampleSection(plan),
  };
  return {
    job: "extension",
    config: { name: plan.name, process: [process] },
    meta: {
      name: "[name]",
      version: "1.0",
      headshot_version: VERSION,
      headshot_recipe: recipe.id,
      headshot_trigger: plan.trigger,
      headshot_class: plan.classWord,
    },
  };
}

/** The YAML file we hand to run.py. Numbers are written plainly (0.0001, not 1e-4). */
export function renderJobYaml(plan: TrainPlan, job: AiToolkitJob = buildJobConfig(plan)): string {
  const header = [
    `# ai-toolkit job written by headshot ${VERSION} for identity "${plan.name}" (recipe ${plan.recipe.id}).`,
    "# Edit the flags of `headshot train` rather than this file: it is regenerated on every run.",
  ];
  const text = `${header.join("\n")}\n${stringify(job, { lineWidth: 0 })}`;
  // run.py expands ${VAR} over the raw text, comments included, and fails on unset variables
  // (ostris/ai-toolkit run.py); a path with "${" cannot be written safely.
  if (text.includes("${")) {
    throw new UsageError('a path or prompt contains "${", which ai-toolkit would expand as an environment variable', {
      code: "E_CONFIG_DOLLAR",
      hint: "use a HEADSHOT_HOME path (and prompts) without '${'",
    });
  }
  return text;
}

/**
 * argv for run.py: absolute paths only (relative ones resolve against the cwd, ostris/ai-toolkit README.md, requirements.txt);
 * `-l` tees the output into the training folder (absolute: a bare file name crashes, 1.1);
 * never `-r`, which turns failures into exit 0 (1.2).
 */
export function buildRunCommand(plan: TrainPlan, toolkit: { dir: string; python: string; runPy: string }): { file: string; args: string[]; cwd: string } {
  return { file: toolkit.python, args: [toolkit.runPy, plan.paths.jobConfig, "-l", plan.paths.log], cwd: toolkit.dir };
}

/** Environment for the child: unbuffered stdout (ostris/ai-toolkit run.py (.env) and extensions_built_in/diffusion_models/flux2/flux2_model.py (HF_TOKEN)), GPU selection, HF token passthrough. */
export function buildChildEnv(plan: TrainPlan, env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  // The trainer has no use for the Replicate token; keep it out of the child and its log.
  delete out.REPLICATE_API_TOKEN;
  out.PYTHONUNBUFFERED = "1";
  if (plan.gpuIds !== undefined) {
    out.CUDA_VISIBLE_DEVICES = plan.gpuIds;
    // nvidia-smi numbers GPUs in PCI bus order; make CUDA agree (the UI does the same, 1.5).
    out.CUDA_DEVICE_ORDER = "PCI_BUS_ID";
  }
  return out;
}
