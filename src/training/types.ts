/**
 * The training port: what the `train` command needs from a backend (house style: a small
 * `Trainer` interface per backend; knowledge of ai-toolkit or Replicate stays in the adapter).
 * `src/training/ai-toolkit/local-trainer.ts` implements it for `--backend local`; a Replicate
 * trainer plugs into the same switch in `src/training/trainers.ts`.
 */
import type { TrainPlan } from "./plan.js";

import type { GpuInfo } from "../gpu/gpu-info.js";

export type { GpuInfo } from "../gpu/gpu-info.js";

/** One check of a preflight, shown by `train` before it starts and by `doctor`. */
export interface PreflightCheck {
  id: string;
  ok: boolean;
  /** What was found (path, version, GPU) or what is missing. */
  detail: string;
  /** How to install or fix it, when not ok. */
  hint?: string;
}

export interface PreflightReport {
  ok: boolean;
  checks: PreflightCheck[];
  gpu?: GpuInfo;
}

export type TrainEvent =
  | { type: "start"; resumeFromStep?: number; resumeFrom?: string; command: string[] }
  | { type: "phase"; phase: string; message: string }
  | {
      type: "progress";
      step: number;
      total: number;
      percent: number;
      loss?: number;
      lr?: number;
      secondsPerStep?: number;
      etaSeconds?: number;
      elapsedSeconds: number;
    }
  | { type: "checkpoint"; step: number; path: string }
  | { type: "sample"; step: number; path: string }
  | { type: "log"; stream: "stdout" | "stderr"; line: string };

/** What a remote (Replicate) training left behind, recorded on the identity. */
export interface RemoteTrainingInfo {
  provider: "replicate";
  trainingId: string;
  /** `owner/name:<64-hex>`: runnable on Replicate even without the local file. */
  version: string;
  weights?: string;
  trainer: string;
  destination: string;
  web?: string;
  billedSeconds?: number;
  billedUsd?: number;
  /** True when the weights tar had already expired on Replicate: no local copy (loraPath is ""). */
  weightsExpired?: boolean;
}

export interface TrainResult {
  /** "" only for a remote training whose weights could no longer be downloaded (see `remote`). */
  loraPath: string;
  /** The training step written in the final LoRA's metadata. */
  step: number;
  /** True when a finished training was found and nothing was run. */
  alreadyFinished: boolean;
  resumedFromStep?: number;
  samples: string[];
  remote?: RemoteTrainingInfo;
}

/** What `--dry-run` prints: the exact files the backend would write and the command it would run. */
export interface TrainDescription {
  files: { path: string; text: string }[];
  command?: string[];
  /** The same, structured, for --json. */
  json: Record<string, unknown>;
  notes: string[];
}

export interface Trainer {
  readonly id: string;
  /** Checks what the backend needs (before the plan exists: the GPU found here shapes the plan). */
  preflight(options: { gpuIds?: string; signal?: AbortSignal }): Promise<PreflightReport>;
  describe(plan: TrainPlan): TrainDescription;
  train(plan: TrainPlan, options: { signal: AbortSignal; onEvent: (event: TrainEvent) => void }): Promise<TrainResult>;
}
