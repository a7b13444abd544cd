/** `headshot gen`: plan a batch of headshots from a preset (and, with a backend, generate it). */
import { Option, type Command } from "commander";
import type { Wrap } from "../main.js";
import { collect, oneOf, wholeNumber } from "../parsers.js";

const EXAMPLES = `
Examples:
  $ headshot gen --preset corporate --count 8 --dry-run
  $ headshot gen --preset corporate --identity jane --count 8 --seed 42 --dry-run
  $ headshot gen --preset linkedin --identity jane --set lighting.setup=rembrandt --set generation.steps=40 --dry-run
  $ headshot gen --preset ./presets/team.yaml --identity jane --dry-run --json > plan.ndjson

--dry-run works offline: it prints every image's prompt, seed, variation, model inputs and file
name, and the batch's estimated cost and time per backend. Nothing is generated or paid.
`;

export interface GenCliOptions {
  preset: string;
  identity?: string;
  count?: number;
  seed?: number;
  out?: string;
  set?: string[];
  format?: "png" | "jpg" | "webp";
  backend: "replicate" | "local" | "test";
  model?: string;
  ref?: string;
  loraUrl?: string;
  concurrency?: number;
  dryRun?: boolean;
}

export function registerGen(program: Command, wrap: Wrap): void {
  program
    .command("gen")
    .description("generate a batch of headshots from a preset (--dry-run shows the plan, offline)")
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
    .option("--concurrency <n>", "predictions in flight at once (default 6)", wholeNumber("--concurrency", 1, 64))
    .option("--dry-run", "print the plan with cost and time estimates; generate nothing")
    .addHelpText("after", EXAMPLES)
    .action(
      wrap(async (ctx, rawOptions) => {
        const options = rawOptions as GenCliOptions;
        const { runGenCommand } = await import("../gen-command.js");
        await runGenCommand(ctx, options);
      }),
    );
}
