/**
 * The pure training plan: identity name + flags + detected GPU -> every number and path the
 * trainer will use. Nothing runs here; `--dry-run` prints what this returns (as YAML + command).
 * Face defaults and the memory policy cite ostris/ai-toolkit config/examples/train_lora_flux_24gb.yaml; ostris/ai-toolkit ui/src/app/jobs/new/options.tsx; hardware reports in ostris/ai-toolkit issues.
 */
import { join } from "node:path";
import { DependencyError, UsageError } from "../errors.js";
import { identityPaths, validateIdentityName } from "../identity/paths.js";
import { closest } from "../util/did-you-mean.js";
import { DEFAULT_RECIPE, DEFAULT_SAMPLE_PROMPTS, RECIPE_IDS, findRecipe, type Recipe } from "./recipes.js";
import type { GpuInfo } from "../gpu/gpu-info.js";

export const DEFAULT_TRIGGER = "ohwx";
export const DEFAULT_CLASS = "person";
export const DEFAULT_RESOLUTIONS = [512, 768, 1024] as const;
/** Upstream example: 5% caption dropout (train_lora_flux_24gb.yaml). */
export const CAPTION_DROPOUT = 0.05;
/** Upstream example: keep 4 intermediate checkpoints. */
export const MAX_CHECKPOINTS = 4;

/**
 * `--backend replicate` defaults: the ostris trainer's own tuned values (replicate/flux-fine-tuner train.py;
 * hardware reports in ostris/ai-toolkit issues: "Gradio UI and Replicate trainer: rank 16, lr 4e-4, 1000 steps"). Higher lr,
 * fewer steps than the local recipe (1e-4 x 1500, with EMA): the same identity fit in about two
 * thirds of the billed H100 time, and it is what that trainer is tested with. Flags override.
 */
export const REPLICATE_DEFAULTS = { steps: 1000, lr: 4e-4 } as const;

export interface TrainPlanInput {
  name: string;
  /** Where it trains; only changes defaults (local unless given). */
  backend?: "local" | "replicate";
  home: string;
  selfiesDir: string;
  recipe?: string;
  trigger?: string;
  classWord?: string;
  steps?: number;
  rank?: number;
  lr?: number;
  sampleEvery?: number;
  resolutions?: number[];
  lowVram?: boolean;
  quantize?: boolean;
  gpu?: GpuInfo;
  /** CUDA_VISIBLE_DEVICES for the child (from --gpu). */
  gpuIds?: string;
  /** Sample prompts with `[trigger]` placeholders (e.g. built from a preset); defaults to a headshot set. */
  samplePrompts?: string[];
  /** The prepared image folder (PreparedSet.dir); defaults to `<identity>/dataset/images`, where prepareTrainingSet writes. */
  datasetDir?: string;
}

export interface TrainPlan {
  name: string;
  backend: "local" | "replicate";
  trigger: string;
  classWord: string;
  recipe: Recipe;
  steps: number;
  rank: number;
  lr: number;
  resolutions: number[];
  captionDropout: number;
  saveEvery: number;
  maxCheckpoints: number;
  /** 0 means sampling is disabled. */
  sampleEvery: number;
  samplePrompts: string[];
  quantize: boolean;
  lowVram: boolean;
  /** Why quantize / low_vram were chosen, for --dry-run and the OOM hint. */
  memoryReason: string;
  gpu: GpuInfo | undefined;
  gpuIds: string | undefined;
  warnings: string[];
  paths: {
    home: string;
    selfiesDir: string;
    identityDir: string;
    identityFile: string;
    datasetDir: string;
    trainingFolder: string;
    /** `<training_folder>/<name>/`, where ai-toolkit writes checkpoints, samples and the final LoRA. */
    outputDir: string;
    finalLora: string;
    jobConfig: string;
    log: string;
  };
}

/** Triggers go into captions split on commas (https://replicate.com/docs/reference/http#trainings.create), so keep them to one plain token. */
const TRIGGER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$/;
/** Same list as the selfie captions use (src/selfies/prepare.ts CLASS_WORDS). */
export const CLASS_WORDS = ["person", "woman", "man"] as const;

function intInRange(problems: string[], flag: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) problems.push(`${flag} must be a whole number from ${min} to ${max} (got ${value})`);
}

function recipeFor(recipeId: string): Recipe {
  const recipe = findRecipe(recipeId);
  if (recipe) return recipe;
  const guess = closest(recipeId, RECIPE_IDS);
  throw new UsageError(`unknown base model "${recipeId}"`, {
    code: "E_UNKNOWN_MODEL",
    hint: `${guess ? `did you mean --model ${guess}? ` : ""}choose one of: ${RECIPE_IDS.join(", ")}`,
  });
}

/** The options with their defaults, after every problem with them is collected into one error. */
function checkedOptions(input: TrainPlanInput, recipe: Recipe, remote: boolean): { trigger: string; classWord: string; resolutions: number[]; prompts: string[] } {
  const problems: string[] = [];
  // ostris/flux-dev-lora-trainer takes 3..6000 steps (replicate/flux-fine-tuner train.py, `steps`
  // ge=3 le=6000); the live TrainingInput schema is checked again before anything is uploaded.
  const maxSteps = input.backend === "replicate" ? 6000 : 20_000;
  intInRange(problems, "--steps", input.steps, 10, maxSteps);
  intInRange(problems, "--rank", input.rank, 1, 128);
  intInRange(problems, "--sample-every", input.sampleEvery, 0, 100_000);
  if (input.lr !== undefined && !(Number.isFinite(input.lr) && input.lr > 0 && input.lr < 0.1)) {
    problems.push(`--lr must be a number between 0 and 0.1, e.g. 1e-4 (got ${input.lr})`);
  }
  const trigger = input.trigger ?? DEFAULT_TRIGGER;
  if (!TRIGGER_PATTERN.test(trigger)) {
    problems.push(`--trigger must be one word of 2-32 letters, digits, '_' or '-' (got "${trigger}")`);
  }
  const classWord = input.classWord ?? DEFAULT_CLASS;
  if (!(CLASS_WORDS as readonly string[]).includes(classWord)) problems.push(`--class must be one of ${CLASS_WORDS.join(", ")} (got "${classWord}")`);
  if (trigger.toLowerCase() === classWord.toLowerCase()) problems.push("--trigger must differ from --class");
  const resolutions = input.resolutions ?? [...DEFAULT_RESOLUTIONS];
  if (resolutions.length === 0) problems.push("--resolution needs at least one size");
  for (const r of resolutions) {
    if (!Number.isInteger(r) || r < 256 || r > 2048 || r % recipe.bucketDivisibility !== 0) {
      problems.push(`--resolution ${r} must be a whole number from 256 to 2048 divisible by ${recipe.bucketDivisibility}`);
    }
  }
  if (remote && recipe.id !== "flux1-dev") {
    problems.push(`--backend replicate trains FLUX.1 dev only (ostris/flux-dev-lora-trainer); --model ${recipe.id} needs --backend local`);
  }
  if (input.gpuIds !== undefined && !/^\d+(,\d+)*$/.test(input.gpuIds)) problems.push(`--gpu must be GPU indexes such as 0 or 0,1 (got "${input.gpuIds}")`);
  const prompts = input.samplePrompts ?? DEFAULT_SAMPLE_PROMPTS.map((p) => p.replaceAll("{class}", classWord));
  for (const prompt of prompts) {
    // ai-toolkit expands ${VAR} over the whole config text and fails on unset ones (replicate/replicate-javascript package.json).
    if (prompt.includes("${")) problems.push(`sample prompt contains "\${", which ai-toolkit would expand as an environment variable: ${prompt}`);
  }
  if (problems.length > 0) {
    throw new UsageError(problems.length === 1 ? (problems[0] as string) : `${problems.length} problems with the training options`, {
      code: "E_TRAIN_OPTIONS",
      details: problems.length === 1 ? [] : problems,
      hint: "fix the flags above; `headshot train --help` lists them with their ranges",
    });
  }
  return { trigger, classWord, resolutions, prompts };
}

/** quantize and low_vram from the flags, the recipe and the GPU, with the reason shown in the plan. */
function memoryPlan(input: TrainPlanInput, recipe: Recipe, remote: boolean): { quantize: boolean; lowVram: boolean; memoryReason: string; warnings: string[] } {
  const warnings: string[] = [];
  const gpu = input.gpu;
  const quantize = input.quantize ?? (gpu ? gpu.totalMiB < recipe.quantizeBelowMiB : true);
  let lowVram: boolean;
  let memoryReason: string;
  if (remote) {
    lowVram = false;
    memoryReason = "on Replicate's H100 (the trainer quantizes by itself)";
  } else if (input.lowVram !== undefined) {
    lowVram = input.lowVram;
    memoryReason = `low_vram ${lowVram ? "on" : "off"} (--${lowVram ? "" : "no-"}low-vram)`;
  } else if (recipe.alwaysLowVram) {
    lowVram = true;
    memoryReason = `low_vram on (${recipe.label} default)`;
  } else if (!gpu) {
    lowVram = false;
    memoryReason = "no GPU detected: assuming a free 24 GB card";
  } else if (gpu.freeMiB < gpu.totalMiB - 1536) {
    // Something else (usually the desktop) holds memory: the upstream example says to use
    // low_vram when the GPU drives monitors.
    lowVram = true;
    memoryReason = `low_vram on: only ${gpu.freeMiB} of ${gpu.totalMiB} MiB free on ${gpu.name}`;
  } else {
    lowVram = gpu.totalMiB < recipe.minVramMiB;
    memoryReason = `${gpu.name}, ${gpu.freeMiB} MiB free: low_vram ${lowVram ? "on" : "off"}`;
  }
  if (!remote) memoryReason += `; quantize ${quantize ? "on" : "off"}${input.quantize === undefined ? "" : " (flag)"}`;
  if (gpu && gpu.totalMiB < recipe.minVramMiB) {
    warnings.push(
      `${gpu.name} has ${Math.round(gpu.totalMiB / 1024)} GB; ${recipe.label} needs about ${Math.round(recipe.minVramMiB / 1024)} GB and will probably run out of memory` +
        (recipe.id === "flux2-klein-4b" ? "" : " (try --model flux2-klein-4b or --backend replicate)"),
    );
  }
  return { quantize, lowVram, memoryReason, warnings };
}

export function buildTrainPlan(input: TrainPlanInput): TrainPlan {
  const name = validateIdentityName(input.name);
  const recipe = recipeFor(input.recipe ?? DEFAULT_RECIPE);
  const remote = input.backend === "replicate";
  const { trigger, classWord, resolutions, prompts } = checkedOptions(input, recipe, remote);
  const steps = input.steps ?? (remote ? REPLICATE_DEFAULTS.steps : recipe.defaults.steps);
  const gpu = input.gpu;
  const { quantize, lowVram, memoryReason, warnings } = memoryPlan(input, recipe, remote);

  if (!remote && gpu && recipe.loadPeak && gpu.freeMiB < recipe.loadPeak.mib) {
    throw new DependencyError(`${recipe.label} cannot load on ${gpu.name}: ${gpu.freeMiB} MiB free, loading needs about ${recipe.loadPeak.mib} MiB`, {
      code: "E_GPU_TOO_SMALL",
      details: [`${recipe.loadPeak.why} (about ${Math.round(recipe.loadPeak.mib / 1024)} GiB), whatever --quantize says.`],
      hint: `train FLUX.2 klein on this GPU: headshot train ${input.selfiesDir} --name ${name} --model flux2-klein-4b; or train FLUX.1-dev on Replicate: headshot train ${input.selfiesDir} --name ${name} --backend replicate`,
    });
  }

  const paths = identityPaths(input.home, name);
  const outputDir = join(paths.trainingDir, name);
  return {
    name,
    backend: remote ? "replicate" : "local",
    trigger,
    classWord,
    recipe,
    steps,
    rank: input.rank ?? recipe.defaults.rank,
    lr: input.lr ?? (remote ? REPLICATE_DEFAULTS.lr : recipe.defaults.lr),
    resolutions,
    captionDropout: CAPTION_DROPOUT,
    // Upstream example saves every 250 steps; short runs save at least 4 times.
    saveEvery: Math.max(1, Math.min(250, Math.floor(steps / 4))),
    maxCheckpoints: MAX_CHECKPOINTS,
    sampleEvery: input.sampleEvery ?? Math.max(1, Math.min(500, Math.floor(steps / 3))),
    samplePrompts: prompts,
    quantize,
    lowVram,
    memoryReason,
    gpu,
    gpuIds: input.gpuIds,
    warnings,
    paths: {
      home: input.home,
      selfiesDir: input.selfiesDir,
      identityDir: paths.dir,
      identityFile: paths.file,
      datasetDir: input.datasetDir ?? join(paths.datasetDir, "images"),
      trainingFolder: paths.trainingDir,
      outputDir,
      finalLora: join(outputDir, `${name}.safetensors`),
      jobConfig: join(paths.trainingDir, `${name}.job.yaml`),
      log: join(paths.trainingDir, "log.txt"),
    },
  };
}
