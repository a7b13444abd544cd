/** The engine's public shapes (events, the create gate, options, result), apart from the engine so its parts can share them without an import cycle. */
import type { HeadshotError } from "../errors.js";
import type { FailureKind, Generator } from "./generator.js";
import type { ManifestEntry, ManifestStore } from "./manifest.js";
import type { GenPlan, PlannedImage } from "./plan.js";

/** What became of a running job at Ctrl-C (the backend's interrupt rule). */
export type InterruptAction = "cancelled" | "left-running" | "none";

export type EngineEvent =
  | { type: "image.skipped"; key: string; file: string }
  | { type: "image.started"; key: string; attempt: number; resumed: boolean }
  | { type: "image.created"; key: string; attempt: number; remoteId: string; webUrl?: string | undefined }
  | { type: "image.recovered"; key: string; remoteId: string }
  // remoteId: the prediction this attempt used, when there was one (for `expired`: the one whose output was deleted).
  | { type: "image.retry"; key: string; attempt: number; kind: FailureKind; code: string; message: string; delayMs: number; remoteId?: string | undefined }
  | { type: "image.done"; key: string; file: string; seconds: number; costUsd: number; placeholder: boolean }
  | { type: "image.failed"; key: string; code: string; message: string; kind: FailureKind }
  | { type: "image.filtered"; key: string; code: string; message: string }
  | { type: "image.interrupted"; key: string; remoteId?: string | undefined; action: InterruptAction }
  | { type: "progress"; done: number; failed: number; filtered: number; total: number; running: number; spentUsd: number; etaSeconds: number | null };

/**
 * Decides, image by image, whether to create at all (`gen --until K` / `--budget`: see
 * src/generate/until-gate.ts). The engine still owns creating; the gate only says yes or no before an
 * image's first create in this run, and hears about every image that ends.
 */
export interface CreateGate {
  /** Once, after lost creates are recovered and before any image runs. */
  open?(entries: ManifestEntry[]): Promise<void>;
  /** Before an image's first create in this run; false leaves it `planned` (a re-run may make it). */
  admit(image: PlannedImage, signal: AbortSignal): Promise<boolean>;
  /** An image that ran in this run ended (done, failed, filtered, interrupted or not admitted). */
  settle(image: PlannedImage, entry: ManifestEntry | undefined): Promise<void>;
}

export interface EngineOptions {
  plan: GenPlan;
  generator: Generator;
  store: ManifestStore;
  concurrency: number;
  signal: AbortSignal;
  tool: string;
  /** Attempts per image in one run (transient failures). Default 3. */
  maxAttempts?: number;
  /** Pause before attempt n+1. Default 1 s, 2 s, 4 s... capped at 15 s. */
  retryDelayMs?: (attempt: number) => number;
  onEvent?: (event: EngineEvent) => void;
  now?: () => Date;
  gate?: CreateGate;
}

export interface EngineResult {
  total: number;
  /** Done before this run (skipped). */
  skipped: number;
  /** Finished in this run. */
  finished: number;
  entries: ManifestEntry[];
  interrupted: boolean;
  fatal?: HeadshotError | undefined;
  spentUsd: number;
  spentThisRunUsd: number;
  seconds: number;
  interruptedJobs: Array<{ key: string; remoteId?: string | undefined; action: InterruptAction }>;
}

