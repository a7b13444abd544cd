/**
 * The batch's spend cap. Before a paid step starts, its estimated cost is reserved; a step whose
 * estimate does not fit in `budget - spent - reserved` is not started (the person stops with
 * `stopped: budget`). Spent is what the manifests and identity records say was really paid.
 */
import { estimateBatch, PRICE_TABLE, type PriceKey } from "../pricing/prices.js";

/**
 * Seconds per training step of a FLUX LoRA on Replicate's H100 trainer (unverified estimate:
 * about 20 minutes for 1000 steps including the model load), plus fixed start-up time.
 */
export const TRAIN_SECONDS_PER_STEP = 1.1;
export const TRAIN_STARTUP_SECONDS = 120;
export const DEFAULT_TRAIN_STEPS = 1000;

/** Estimated cost of one Replicate training at the price table's H100 rate. */
export function estimateTrainingUsd(steps: number | undefined): number {
  const seconds = TRAIN_STARTUP_SECONDS + (steps ?? DEFAULT_TRAIN_STEPS) * TRAIN_SECONDS_PER_STEP;
  return Math.round(seconds * PRICE_TABLE.h100PerSecondUsd * 1000) / 1000;
}

/** Estimated cost of `images` images of a model (0 for local and test). */
export function estimateImagesUsd(key: PriceKey, images: number, steps: number, concurrency: number): number {
  return estimateBatch(key, images, steps, concurrency).costUsd;
}

export interface Reservation {
  /** Records the real cost and frees the reservation. */
  settle(actualUsd: number): void;
}

export class Budget {
  private spentUsd = 0;
  private reservedUsd = 0;

  constructor(readonly capUsd: number | undefined) {}

  get spent(): number {
    return round(this.spentUsd);
  }

  get left(): number | undefined {
    return this.capUsd === undefined ? undefined : round(this.capUsd - this.spentUsd - this.reservedUsd);
  }

  /** Adds money already spent by earlier runs (read from manifests and identities). */
  addSpent(usd: number): void {
    this.spentUsd += usd;
  }

  /** Reserves `estimateUsd`, or returns undefined when it does not fit. Free steps always fit. */
  reserve(estimateUsd: number): Reservation | undefined {
    if (estimateUsd > 0 && this.capUsd !== undefined && this.spentUsd + this.reservedUsd + estimateUsd > this.capUsd + 1e-9) return undefined;
    this.reservedUsd += estimateUsd;
    let settled = false;
    return {
      settle: (actualUsd: number) => {
        if (settled) return;
        settled = true;
        this.reservedUsd -= estimateUsd;
        this.spentUsd += actualUsd;
      },
    };
  }
}

function round(usd: number): number {
  return Math.round(usd * 1000) / 1000;
}
