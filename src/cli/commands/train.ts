/**
 * `headshot train <selfies> --name <name> --backend local`: check + prepare the selfies, train an
 * identity LoRA, register it. The backend switch lives in src/training/trainers.ts.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import type { GlobalSettings } from "../../settings/settings.js";
import type { CommandContext, Wrap } from "../context.js";
import { positiveNumber, wholeNumber, wholeNumberList } from "../parsers.js";
import type { TrainRequest } from "../../training/train.js";
import type { BackendSource, TrainBackend } from "../../training/trainers.js";

const EXAMPLES = `
Examples:
  $ headshot train ./selfies --name jane --backend local
  $ headshot train ./selfies --name jane --backend local --dry-run       print the ai-toolkit YAML and command
  $ headshot train ./selfies --name jane --backend local --model flux2-klein-4b --steps 1200
  $ headshot train ./selfies --name jane --backend local --gpu 1 --low-vram --json
  $ headshot train ./selfies --name jane --backend replicate               train on Replicate (paid, ~$2)
  $ headshot train ./selfies --name jane --backend replicate --dry-run     trainer inputs and cost estimate
  $ headshot train ./selfies --name jane --backend replicate --resume      re-attach after Ctrl-C or a crash
  $ headshot train ./selfies --name jane --backend test                    free rehearsal identity (no LoRA; gen --backend test only)

Base models (--model): flux1-dev (default), flux1-schnell, flux2-dev, flux2-klein-4b, flux2-klein-9b.
Re-run the same command to resume after Ctrl-C or a crash; a finished training is not re-run.
--restart discards an unfinished training and starts over. On Replicate, re-running re-attaches
to the running training (never a second, paid one); Ctrl-C asks whether to cancel it remotely
(in CI it keeps running unless --cancel-on-interrupt).

Environment: REPLICATE_API_TOKEN, REPLICATE_BASE_URL (--backend replicate), AI_TOOLKIT_DIR, AI_TOOLKIT_PYTHON, HF_TOKEN (gated models: FLUX.1-dev, FLUX.2-dev,
FLUX.2-klein-9B), HEADSHOT_HOME (identities live in <home>/identities/<name>/).
Exit codes: 0 trained (or already trained), 2 bad flag or input, 3 ai-toolkit/Python/GPU/HF
access missing, 4 Replicate API error (token, credit, upload), 5 training failed (out of memory,
crash, failed on Replicate), 6 selfie set rejected, 130 interrupted.
`;

interface TrainFlags {
  name: string;
  backend?: string;
  aiToolkit?: string;
  model?: string;
  steps?: number;
  rank?: number;
  lr?: number;
  trigger?: string;
  class?: string;
  sampleEvery?: number;
  samplePreset: string;
  resolution?: number[];
  lowVram?: boolean;
  quantize?: boolean;
  gpu?: string;
  force?: boolean;
  dryRun?: boolean;
  restart?: boolean;
  resume?: boolean;
  trainer?: string;
  destination?: string;
  cancelOnInterrupt?: boolean;
}

/** The flags that shape the training plan (everything else is how to run it). */
function planOptions(flags: TrainFlags, samplePrompts: string[]): TrainRequest["options"] {
  return {
    ...(flags.model !== undefined ? { recipe: flags.model } : {}),
    ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
    ...(flags.rank !== undefined ? { rank: flags.rank } : {}),
    ...(flags.lr !== undefined ? { lr: flags.lr } : {}),
    ...(flags.trigger !== undefined ? { trigger: flags.trigger } : {}),
    ...(flags.class !== undefined ? { classWord: flags.class } : {}),
    ...(flags.sampleEvery !== undefined ? { sampleEvery: flags.sampleEvery } : {}),
    samplePrompts,
    ...(flags.resolution !== undefined ? { resolutions: flags.resolution } : {}),
    ...(flags.lowVram !== undefined ? { lowVram: flags.lowVram } : {}),
    ...(flags.quantize !== undefined ? { quantize: flags.quantize } : {}),
    ...(flags.gpu !== undefined ? { gpuIds: flags.gpu } : {}),
  };
}

/** --backend, $HEADSHOT_BACKEND, the project config or local; `--verbose` says which. */
async function trainBackend(ctx: CommandContext, flags: TrainFlags, settings: GlobalSettings): Promise<TrainBackend> {
  const { parseBackend } = await import("../../training/trainers.js");
  const { describeSettings, resolveTrainBackend } = await import("../../settings/command-defaults.js");
  const resolved = resolveTrainBackend(flags.backend, ctx.env, settings);
  for (const line of describeSettings({ backend: resolved })) ctx.reporter.debug(line);
  // The error names where the bad value came from (a default or the config: the config file's name).
  const where: BackendSource = resolved.source === "flag" ? "--backend" : resolved.source === "env" ? "HEADSHOT_BACKEND" : "headshot.config.yaml";
  return parseBackend(resolved.value, where);
}

export function registerTrain(program: Command, wrap: Wrap): void {
  program
    .command("train")
    .description("train an identity LoRA from a selfie folder (checks and prepares the photos first)")
    .argument("<selfies>", "folder of selfies")
    .requiredOption("--name <name>", "identity name (letters, digits, - and _)")
    .option("--backend <backend>", "where to train: local (ai-toolkit on this machine's GPU), replicate (paid, no GPU needed) or test (free rehearsal identity, no LoRA)")
    .option("--ai-toolkit <dir>", "ai-toolkit checkout (default AI_TOOLKIT_DIR or the project config)")
    .option("--model <id>", "base model recipe (default flux1-dev)")
    .option("--steps <n>", "training steps (default 1500; replicate 1000)", wholeNumber("--steps", 0))
    .option("--rank <n>", "LoRA rank (default 16 for FLUX.1, 32 for FLUX.2)", wholeNumber("--rank", 0))
    .option("--lr <rate>", "learning rate (default 1e-4; replicate 4e-4)", positiveNumber("--lr"))
    .option("--trigger <word>", "trigger word used in captions and prompts (default ohwx)")
    .option("--class <word>", "class word: person, woman or man (default person)")
    .option("--sample-every <n>", "render sample images every n steps; 0 disables sampling", wholeNumber("--sample-every", 0))
    .option("--sample-preset <name|file>", "preset the progress samples are composed from", "corporate")
    .option("--resolution <sizes>", "training resolutions (default 512,768,1024)", wholeNumberList("--resolution", "512,768,1024"))
    .option("--low-vram", "quantize on the CPU (slower; for GPUs that also drive a display or OOM)")
    .option("--no-low-vram", "never use low-VRAM mode")
    .option("--quantize", "8-bit transformer and text encoder (default below 100 GB of GPU memory)")
    .option("--no-quantize", "train the unquantized model (needs a very large GPU)")
    .option("--gpu <ids>", "GPU index(es) for CUDA_VISIBLE_DEVICES, e.g. 0 or 1")
    .option("--force", "train even when the selfie check rejects the set (uses the usable photos)")
    .option("--restart", "discard an unfinished training of this name and start over")
    .option("--resume", "only re-attach to / continue the unfinished training; never start a new one")
    .option("--trainer <owner/name[:version]>", "replicate: the trainer model (default ostris/flux-dev-lora-trainer, latest version)")
    .option("--destination <[owner/]name>", "replicate: the model the trained version goes to (default <account>/headshot-<name>)")
    .option("--cancel-on-interrupt", "replicate: cancel the remote training on Ctrl-C without asking (default in CI: keep it running)")
    .option("--dry-run", "print the exact ai-toolkit config and command (replicate: trainer inputs and cost), then stop")
    .addHelpText("after", EXAMPLES)
    .action(
      wrap(async (ctx, selfiesArg, rawFlags) => {
        const flags = rawFlags as TrainFlags;
        const settings = await ctx.settings(flags.aiToolkit !== undefined ? { aiToolkit: flags.aiToolkit } : {});
        const backend = await trainBackend(ctx, flags, settings);
        const { trainIdentity } = await import("../../training/train.js");
        const { samplePromptsFor } = await import("../../training/sample-prompts.js");
        const samplePrompts = await samplePromptsFor(flags.samplePreset, flags.class ?? "person", { cwd: ctx.cwd, userDirs: settings.presetDirs });
        const { TrainView, renderTrainDryRun, renderTrainSummary } = await import("../views/train.js");
        const view = new TrainView(ctx.reporter);
        const request: TrainRequest = {
          selfiesDir: resolve(ctx.cwd, String(selfiesArg)),
          name: flags.name,
          backend,
          force: Boolean(flags.force),
          dryRun: Boolean(flags.dryRun),
          restart: Boolean(flags.restart),
          resume: Boolean(flags.resume),
          replicate: {
            ...(flags.trainer !== undefined ? { trainer: flags.trainer } : {}),
            ...(flags.destination !== undefined ? { destination: flags.destination } : {}),
            cancelOnInterrupt: Boolean(flags.cancelOnInterrupt),
          },
          settings,
          env: ctx.env,
          rehearsal: backend === "test",
          // The signal came from the terminal's Ctrl-C when we are interactive: the child got it too.
          childSharesTerminal: ctx.deps.stdinIsTTY && Boolean(ctx.deps.stderr.isTTY),
          options: planOptions(flags, samplePrompts),
        };
        const outcome = await trainIdentity(request, ctx.io(view.handle));
        if (outcome.dryRun) renderTrainDryRun(ctx.reporter, request, outcome);
        else renderTrainSummary(ctx.reporter, request, outcome);
      }),
    );
}
