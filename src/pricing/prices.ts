/**
 * Price and latency table for cost and time estimates, kept as data with its source and date.
 * Figures marked unverified are the commonly quoted ones (https://replicate.com/pricing);
 * the summary after a real run reports what was actually billed where the API says so.
 */
export interface PriceEntry {
  /** Dollars per generated image (at about 1 MP). */
  perImageUsd: number;
  /** Typical seconds per image at the reference step count, or per step for local GPUs. */
  secondsPerImage?: number;
  secondsPerStep?: number;
  /** One-off start-up seconds (model load for local generation). */
  startupSeconds?: number;
  referenceSteps?: number;
  verified: boolean;
  note: string;
}

export const PRICE_TABLE = {
  source: "replicate.com/pricing, replicate.com/blog/flux-is-fast-and-open-source, aggregator quotes (see README: cost estimates)",
  asOf: "2026-04",
  currency: "USD",
  h100PerSecondUsd: 0.001525,
  entries: {
    "replicate:trained-version": {
      perImageUsd: 0.032,
      secondsPerImage: 3.03,
      referenceSteps: 28,
      verified: false,
      note: "trained FLUX LoRA versions; billed like flux-dev-lora or by GPU time (unverified)",
    },
    "replicate:flux-dev-lora": {
      perImageUsd: 0.032,
      secondsPerImage: 3.03,
      referenceSteps: 28,
      verified: false,
      note: "black-forest-labs/flux-dev-lora; p50 latency 3.03 s at 28 steps (flux-dev)",
    },
    "replicate:flux-2-dev": { perImageUsd: 0.025, secondsPerImage: 5.8, verified: false, note: "per input+output megapixel; aggregator quotes $0.012-0.025" },
    "replicate:flux-2-pro": { perImageUsd: 0.03, secondsPerImage: 14, verified: false, note: "per MP tiers; 1 MP output with references" },
    "replicate:flux-2-klein-4b": { perImageUsd: 0.003, secondsPerImage: 2, verified: false, note: "about $0.001 per megapixel incl. references" },
    local: {
      perImageUsd: 0,
      secondsPerStep: 0.6,
      startupSeconds: 120,
      verified: false,
      note: "your own 24 GB GPU: about 0.6 s per step at 1 MP (estimate), model load once per batch",
    },
    test: { perImageUsd: 0, secondsPerImage: 0.05, verified: true, note: "free placeholder images, no token or GPU" },
  } satisfies Record<string, PriceEntry>,
} as const;

export type PriceKey = keyof typeof PRICE_TABLE.entries;

export interface BatchEstimate {
  backend: PriceKey;
  images: number;
  costUsd: number;
  seconds: number;
  verified: boolean;
  note: string;
}

/** Estimated cost and wall time of `images` images at `steps` steps, `concurrency` at a time. */
export function estimateBatch(backend: PriceKey, images: number, steps: number, concurrency: number): BatchEstimate {
  const entry: PriceEntry = PRICE_TABLE.entries[backend];
  const perImage =
    entry.secondsPerStep !== undefined
      ? entry.secondsPerStep * steps
      : (entry.secondsPerImage ?? 0) * (entry.referenceSteps ? steps / entry.referenceSteps : 1);
  // Local GPUs run one image at a time; remote predictions run `concurrency` at a time.
  const lanes = backend === "local" ? 1 : Math.max(1, concurrency);
  const seconds = (entry.startupSeconds ?? 0) + Math.ceil(images / lanes) * perImage;
  return {
    backend,
    images,
    costUsd: Math.round(entry.perImageUsd * images * 1000) / 1000,
    seconds: Math.round(seconds),
    verified: entry.verified,
    note: entry.note,
  };
}
