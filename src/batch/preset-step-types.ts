/** What one preset step of a batch is given and what it tells (src/batch/gen-step.ts runs it). */
import type { RunEvent } from "../generation/run-plan.js";
import type { Identity } from "../identity/registry.js";
import type { PolishFolderEvent } from "../polish/polish-folder.js";
import type { GlobalSettings } from "../settings/settings.js";
import type { LockTakeover } from "../util/folder-lock.js";
import type { Budget } from "./budget.js";
import type { ResolvedPerson, ResolvedPreset } from "./resolve.js";

export type GenStepEvent =
  | { type: "preset.start"; person: string; preset: string; dir: string; remaining: number; total: number; estimateUsd: number }
  | { type: "preset.superseded"; person: string; preset: string; movedTo: string; reason: string }
  | { type: "preset.skipped"; person: string; preset: string; dir: string; images: number }
  | { type: "lock.takeover"; person: string; preset: string; takeover: LockTakeover }
  | { type: "preset.done"; person: string; preset: string; dir: string; images: number; failed: number; costUsd: number }
  | { type: "gen.event"; person: string; preset: string; event: RunEvent }
  | { type: "polish.event"; person: string; preset: string; event: PolishFolderEvent }
  | { type: "curate.done"; person: string; preset: string; kept: number; scored: number; gallery: string; placeholder: boolean };

/** A weighted FIFO semaphore over the batch's prediction slots (see run-batch.ts). */
export interface Slots {
  withSlots<T>(wanted: number, fn: (granted: number, giveBack: (n: number) => void) => Promise<T>): Promise<T>;
}

export interface GenStepInput {
  person: ResolvedPerson;
  preset: ResolvedPreset;
  identity: Identity;
  /** HEADSHOT_HOME for caches (test mode: its own folder). */
  home: string;
  out: string;
  batchDir: string;
  settings: GlobalSettings;
  env: Record<string, string | undefined>;
  signal: AbortSignal;
  budget: Budget;
  slots: Slots;
  /** The face models are used one person at a time (see identity-step.ts). */
  faces: { run<T>(fn: () => Promise<T>): Promise<T> };
  concurrency: number;
  /** The command that goes on with this person (shown in errors). */
  resume: string;
  onEvent: (event: GenStepEvent) => void;
  now: () => Date;
}
