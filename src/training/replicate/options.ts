/**
 * Pure pieces of `train --backend replicate`: which trainer, which destination, the trainer's
 * inputs from the plan, and the cost estimate. Nothing here touches the network, so `--dry-run`
 * prints exactly what a real run would send (except the uploaded zip's URL and the trainer version,
 * which only exist once we talk to Replicate).
 */
import { UsageError } from "../../errors.js";
import { PRICE_TABLE } from "../../pricing/prices.js";
import type { TrainPlan } from "../plan.js";

/** replicate/flux-fine-tuner train.py: the FLUX.1-dev LoRA trainer (ai-toolkit inside a Cog container, H100). */
export const DEFAULT_TRAINER = "ostris/flux-dev-lora-trainer";

/**
 * Observed speed of the ostris trainer: 1000 steps take roughly 15-25 min on an H100
 * (https://replicate.com/pricing, unverified), i.e. 0.9-1.5 s per step including boot, unzip and model load.
 * The estimate uses the middle; the summary reports what Replicate actually billed.
 */
export const SECONDS_PER_STEP = { low: 0.9, typical: 1.2, high: 1.5 } as const;

export interface TrainerRef {
  owner: string;
  name: string;
  /** Pinned with `--trainer owner/name:<64-hex>`; Replicate may still run the latest (replicate/replicate-python#419). */
  version?: string;
}

const NAME = /^[a-z0-9][a-z0-9_.-]*$/i;

export function parseTrainerRef(raw: string | undefined): TrainerRef {
  const value = (raw ?? DEFAULT_TRAINER).trim();
  const m = value.match(/^([^/:\s]+)\/([^/:\s]+)(?::([0-9a-f]{64}))?$/);
  if (!m || !NAME.test(m[1] ?? "") || !NAME.test(m[2] ?? "")) {
    throw new UsageError(`--trainer ${JSON.stringify(value)} is not owner/name or owner/name:<64-hex version>`, {
      code: "E_TRAINER_REF",
      hint: `e.g. --trainer ${DEFAULT_TRAINER} (the default), or pin a version with ${DEFAULT_TRAINER}:<version id>`,
    });
  }
  return { owner: m[1] as string, name: m[2] as string, ...(m[3] ? { version: m[3] } : {}) };
}

export function trainerLabel(ref: TrainerRef): string {
  return `${ref.owner}/${ref.name}${ref.version ? `:${ref.version}` : ""}`;
}

/** Replicate model names: lowercase letters, digits, '-', '_' and '.' (we lowercase identity names). */
export function defaultDestinationName(identity: string): string {
  return `headshot-${identity.toLowerCase().replace(/[^a-z0-9._-]/g, "-")}`;
}

/** `--destination owner/name` or just `name` (then the token's account is the owner). */
export function parseDestination(raw: string | undefined, identity: string): { owner?: string; name: string } {
  if (raw === undefined) return { name: defaultDestinationName(identity) };
  const value = raw.trim();
  const m = value.match(/^(?:([a-z0-9][a-z0-9_-]*)\/)?([a-z0-9][a-z0-9_.-]*)$/);
  if (!m) {
    throw new UsageError(`--destination ${JSON.stringify(raw)} is not a Replicate model name`, {
      code: "E_DESTINATION",
      hint: "use lowercase letters, digits, '-', '_' or '.', as owner/name or just name (owner = your account)",
    });
  }
  return { ...(m[1] ? { owner: m[1] } : {}), name: m[2] as string };
}

/**
 * The trainer inputs (replicate/flux-fine-tuner train.py). Our prepared captions start with "<trigger> <class>", so
 * autocaption stays off: LLaVA captions would not carry the trigger and would replace ours only
 * for images without a .txt, but a missing caption is a bug we want to see, not paper over.
 */
export function buildTrainerInput(plan: TrainPlan, imagesUrl: string): Record<string, unknown> {
  return {
    input_images: imagesUrl,
    trigger_word: plan.trigger,
    autocaption: false,
    steps: plan.steps,
    learning_rate: plan.lr,
    lora_rank: plan.rank,
    resolution: plan.resolutions.join(","),
    caption_dropout_rate: plan.captionDropout,
    batch_size: 1,
    optimizer: "adamw8bit",
  };
}

export interface CostEstimate {
  steps: number;
  secondsPerStep: number;
  seconds: number;
  usd: number;
  lowUsd: number;
  highUsd: number;
  ratePerSecondUsd: number;
}

const cents = (usd: number): number => Math.round(usd * 100) / 100;

export function estimateCost(steps: number): CostEstimate {
  const rate = PRICE_TABLE.h100PerSecondUsd;
  const seconds = Math.round(steps * SECONDS_PER_STEP.typical);
  return {
    steps,
    secondsPerStep: SECONDS_PER_STEP.typical,
    seconds,
    usd: cents(seconds * rate),
    lowUsd: cents(steps * SECONDS_PER_STEP.low * rate),
    highUsd: cents(steps * SECONDS_PER_STEP.high * rate),
    ratePerSecondUsd: rate,
  };
}

/** What Replicate billed: `metrics.predict_time` seconds on an H100 (https://replicate.com/pricing). */
export function billedCost(predictTime: number | undefined): { seconds: number; usd: number } | undefined {
  if (predictTime === undefined || !Number.isFinite(predictTime)) return undefined;
  return { seconds: Math.round(predictTime * 10) / 10, usd: cents(predictTime * PRICE_TABLE.h100PerSecondUsd) };
}
