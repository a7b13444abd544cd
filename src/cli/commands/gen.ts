/** `headshot gen`: plan a batch of headshots from a preset (and, with a backend, generate it). */
import { InvalidArgumentError, Option, type Command } from "commander";
import type { Wrap } from "../context.js";
import { collect, decimal, oneOf, wholeNumber } from "../parsers.js";
import type { GenerateOptions } from "../../generate/options.js";

const EXAMPLES = `
Examples:
  $ headshot gen --preset corporate --identity jane --count 24
  $ headshot gen --preset corporate --ref ./selfies --model flux-2-pro --count 8
  $ headshot gen --preset linkedin --identity jane --lora-url huggingface.co/jane/jane-lora --count 8
  $ headshot gen --preset corporate --count 4 --backend test          # free labelled placeholders
  $ headshot gen --preset corporate --identity jane --keep-best 2 --crops --backend test   # free rehearsal
  $ headshot gen --preset corporate --identity jane --count 8 --seed 42 --dry-run
  $ headshot gen --preset ./presets/team.yaml --identity jane --json > run.ndjson
  $ headshot gen --preset corporate --identity jane --backend local --count 8 --seed 7
  $ headshot gen --preset corporate --identity jane --backend local --gpu 1 --offload sequential
  $ headshot gen --preset corporate --identity jane --count 12 --keep-best 4 --crops
  $ headshot gen --preset corporate --identity jane --until 4 --max-count 16 --budget 1.00

Backends:
  replicate  an identity trained on Replicate runs its trained version; one trained locally runs
             black-forest-labs/flux-dev-lora with --lora-url (Replicate model, Hugging Face repo
             or .safetensors URL); --ref uses FLUX.2 reference images, no training.
             Needs REPLICATE_API_TOKEN.
  local      your NVIDIA GPU with the identity's LoRA, in ai-toolkit's Python environment
             (--ai-toolkit / AI_TOOLKIT_DIR / AI_TOOLKIT_PYTHON, as for training). Offloading
             and quantization follow the GPU's free memory (nvidia-smi) unless --offload /
             --quantize say otherwise; gated base models need HF_TOKEN. Free, one image at a time.
  test       free and local, never a real photo. With --identity (train --backend test makes a
             rehearsal identity) or --ref: labelled PREVIEWS drawn from your own selfies, some
             planting a stranger, a soft image or a small face, scored and kept like a real run.
             Without a person: labelled placeholder cards.

Images land in --out with manifest.json, a sidecar .json per image and AI-generated labelling
(IPTC DigitalSourceType in XMP). Re-run the same command to resume: finished images are skipped,
running predictions are collected, only what is missing is created.
With --identity or --ref every image is scored for likeness (offline, on the CPU) and index.html +
contact-sheet.png are written next to the manifest; --keep-best / --min-similarity / --until move
the images not kept to <out>/rejected/ with their scores (nothing paid for is deleted).
--dry-run works offline: every image's prompt, seed, inputs and file name, plus cost and time.
Exit codes: 0 every image landed, 2 bad options, 3 local Python/torch/model access missing,
4 Replicate refused (token, credit, input), 5 some images did not land, --until did not reach K
or --budget stopped the batch (listed, with the command
to resume; GPU out of memory names the flag that helps), 130 interrupted.
`;

/** The options `gen` parses are the generate use case's input (src/generate/options.ts). */
export type { GenerateOptions as GenCliOptions } from "../../generate/options.js";

/** CUDA_VISIBLE_DEVICES values: GPU indexes or nvidia-smi UUIDs, comma-separated. */
function gpuIds(raw: string): string {
  const value = raw.trim();
  if (!/^[A-Za-z0-9-]+(,[A-Za-z0-9-]+)*$/.test(value)) {
    throw new InvalidArgumentError(`--gpu must be GPU indexes such as 0 or 1,2 (got "${raw}").`);
  }
  return value;
}

export function registerGen(program: Command, wrap: Wrap): void {
  program
    .command("gen")
    .description("generate a batch of headshots from a preset; resumable (--dry-run shows the plan, offline)")
    .requiredOption("-p, --preset <name|file>", "built-in or user preset name, or a preset file")
    .option("-i, --identity <name>", "trained identity to use (headshot identities list)")
    .option("-n, --count <n>", "number of images (default: the preset's generation.count)", wholeNumber("--count", 1, 1000))
    .option("--seed <n>", "base seed; image i uses seed+i-1 (default: random, recorded)", wholeNumber("--seed", 0, 2_147_483_646))
    .option("-o, --out <dir>", "output folder (default ./headshots/<identity>/<preset>/)")
    .option("--set <key.path=value>", "override a preset field, repeatable (e.g. lighting.setup=rembrandt)", collect)
    .option("--format <fmt>", "output format: png, jpg or webp", oneOf("--format", ["png", "jpg", "webp"] as const))
    .addOption(new Option("--backend <name>", "where to generate").choices(["replicate", "local", "test"]).default("replicate"))
    .option("--model <name>", "flux-dev-lora (LoRA); with --ref: flux-2-dev, flux-2-pro or flux-2-klein-4b")
    .option("--ref <dir>", "reference mode: use selfies from <dir> as FLUX.2 reference images, no training")
    .option("--lora-url <url>", "where your locally trained LoRA is hosted (Replicate model, HF repo or .safetensors URL)")
    .option("--concurrency <n>", "images in flight at once (default 6: far below Replicate's 600 creates/min)", wholeNumber("--concurrency", 1, 64))
    .option("--dry-run", "print the plan with cost and time estimates; generate nothing")
    .option("--keep-best <k>", "keep the K images that look most like you; move the rest to <out>/rejected/", wholeNumber("--keep-best", 1, 1000))
    .option("--min-similarity <r>", "likeness an image needs to be kept, relative to your selfies (default 0.95, with a raw similarity floor)", decimal("--min-similarity", 0, 2))
    .option("--until <k>", "keep generating until K images look like you (within --max-count and --budget)", wholeNumber("--until", 1, 1000))
    .option("--max-count <n>", "with --until: make at most this many images (default 3 x K)", wholeNumber("--max-count", 1, 1000))
    .option("--budget <usd>", "stop creating before the batch's estimated cost would pass this many US dollars", decimal("--budget", 0, 100_000))
    .option("--no-score", "skip likeness scoring after the batch (no face models: faster and lighter; the gallery is still written)")
    .option("--polish", "after the batch, run the face detail pass on the kept images (headshot polish: one paid prediction per face on Replicate)")
    .option("--no-polish", "do not polish, even when the preset says polish: {enabled: true}")
    .option("--crops", "cut face-aware crops of each kept image into <out>/crops/ (LinkedIn, avatar, 4:5, 3:4, 16:9)")
    .option("--ai-toolkit <dir>", "local: ai-toolkit checkout whose venv runs generation (default AI_TOOLKIT_DIR)")
    .option("--gpu <ids>", "local: GPU index(es) for CUDA_VISIBLE_DEVICES, e.g. 0 or 1", gpuIds)
    .option("--offload <mode>", "local: none, model or sequential CPU offload (default: from free GPU memory)", oneOf("--offload", ["none", "model", "sequential"] as const))
    .option("--quantize <mode>", "local: none, 8bit or 4bit weights (default: from free GPU memory)", oneOf("--quantize", ["none", "8bit", "4bit"] as const))
    .addHelpText("after", EXAMPLES)
    .action(
      wrap(async (ctx, rawOptions, command) => {
        const options = rawOptions as GenerateOptions;
        const { checkGenerateOptions } = await import("../../generate/options.js");
        checkGenerateOptions(options);
        const settings = await ctx.settings(options.aiToolkit !== undefined ? { aiToolkit: options.aiToolkit } : {});
        const { generate, generateDefaults } = await import("../../generate/generate.js");
        if (ctx.reporter.verbose) {
          const { describeSettings } = await import("../../settings/command-defaults.js");
          const backendTyped = (command as Command).getOptionValueSource("backend") === "cli";
          const { count, model, format, concurrency, backend } = generateDefaults(options, settings, backendTyped);
          for (const line of describeSettings({ count, model, format, concurrency, backend })) ctx.reporter.debug(line);
        }
        const { GenView, showGenerateResult } = await import("../views/gen.js");
        const view = new GenView(ctx.reporter, options.backend);
        let outcome;
        try {
          outcome = await generate({ options, cwd: ctx.cwd, settings, env: ctx.env }, ctx.io(view.onEvent));
        } finally {
          view.stop();
        }
        showGenerateResult(ctx.reporter, outcome);
        if (!outcome.dryRun && outcome.error) throw outcome.error;
      }),
    );
}
