/**
 * What `gen` is asked to do, as plain data (the CLI maps its flags to it; a batch preset will map
 * its entry to the same thing): the checks of flag combinations before anything runs, and the
 * command that resumes a batch.
 */
import { UsageError } from "../errors.js";
import { checkLocalFlags, localResumeFlags } from "../generation/local/cli-options.js";
import type { GenPlan } from "../generation/plan.js";
import { headshotCommand, type Flag } from "../util/shell-quote.js";

export interface GenerateOptions {
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
  /** --backend local only. */
  aiToolkit?: string;
  gpu?: string;
  offload?: "none" | "model" | "sequential";
  quantize?: "none" | "8bit" | "4bit";
  /** Selection (issue 9): see curation-step.ts. */
  keepBest?: number;
  minSimilarity?: number;
  until?: number;
  maxCount?: number;
  budget?: number;
  crops?: boolean;
  /** false with --no-score: no likeness scoring (and no face models) after the batch. */
  score?: boolean;
  /** --polish / --no-polish: the face detail pass after the batch (default: the preset's polish.enabled). */
  polish?: boolean;
}

export const DEFAULT_CONCURRENCY = 6;

/** `--max-count` when `--until K` is given without it. */
export const UNTIL_MAX_FACTOR = 3;

/** Asking for scoring or selection: these need a person to compare with. */
export function selecting(options: GenerateOptions): boolean {
  return options.keepBest !== undefined || options.minSimilarity !== undefined || options.until !== undefined || Boolean(options.crops);
}

/** Usage errors for flag combinations, before anything else runs. */
export function checkGenerateOptions(options: GenerateOptions): void {
  checkLocalFlags(options);
  checkCurateFlags(options);
}

function checkCurateFlags(options: GenerateOptions): void {
  if (options.score === false && selecting(options)) {
    throw new UsageError("--no-score cannot be combined with --keep-best, --min-similarity, --until or --crops: they pick images by their score", {
      code: "E_GEN_FLAGS",
      hint: "drop --no-score, or drop the selection flags",
    });
  }
  if (selecting(options) && !options.identity && !options.ref) {
    const flag = options.until !== undefined ? "--until" : options.keepBest !== undefined ? "--keep-best" : options.minSimilarity !== undefined ? "--min-similarity" : "--crops";
    throw new UsageError(`${flag} scores each image against your selfies, so it needs --identity <name> or --ref <dir>`, {
      code: "E_GEN_NO_REFERENCE",
      hint: "add --identity <name> (headshot identities list) or --ref <dir with your selfies>",
    });
  }
  if (options.maxCount !== undefined && options.until === undefined) {
    throw new UsageError("--max-count caps --until; without --until use --count", { code: "E_GEN_FLAGS", hint: "add --until <k>, or use --count <n>" });
  }
  if (options.until !== undefined && options.count !== undefined) {
    throw new UsageError("--until plans --max-count images and stops once enough pass; --count does not apply", {
      code: "E_GEN_FLAGS",
      hint: `drop --count and pass --max-count <n> (default ${UNTIL_MAX_FACTOR} x --until)`,
    });
  }
  if (options.until !== undefined && options.maxCount !== undefined && options.maxCount < options.until) {
    throw new UsageError(`--max-count ${options.maxCount} is below --until ${options.until}`, { code: "E_GEN_FLAGS", hint: "raise --max-count or lower --until" });
  }
}

/** How many images to plan: `--max-count` (or 3 x K) with --until, else undefined (the usual rules). */
export function untilPlanCount(options: GenerateOptions): number | undefined {
  if (options.until === undefined) return undefined;
  return options.maxCount ?? Math.min(1000, options.until * UNTIL_MAX_FACTOR);
}

/** The selection flags, for the resume command. */
function curateResumeFlags(options: GenerateOptions): Flag[] {
  return [
    ["--until", options.until],
    ["--max-count", untilPlanCount(options)],
    ["--keep-best", options.keepBest],
    ["--min-similarity", options.minSimilarity],
    ["--budget", options.budget],
    ["--crops", options.crops],
  ];
}

/** The command that resumes this batch: the same options, with the output folder made explicit. */
export function resumeCommand(options: GenerateOptions, plan: GenPlan): string {
  return headshotCommand(
    ["gen"],
    [
      ["--preset", options.preset],
      ["--identity", options.identity || undefined],
      ["--ref", options.ref || undefined],
      ["--count", options.count],
      ["--seed", plan.seedBase],
      ["--out", plan.outDir],
      ...(options.set ?? []).map((set): Flag => ["--set", set]),
      ["--format", options.format || undefined],
      ["--backend", options.backend !== "replicate" ? options.backend : undefined],
      ["--model", options.model || undefined],
      ["--lora-url", options.loraUrl || undefined],
      ["--concurrency", options.concurrency],
      ...localResumeFlags(options),
      ...curateResumeFlags(options),
    ],
  );
}
