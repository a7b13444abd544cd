/** What the `train` use case takes, tells while it runs, and returns (src/training/train.ts). */
import type { Identity } from "../identity/registry.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import type { TrainPlan, TrainPlanInput } from "./plan.js";
import type { TrainBackend } from "./trainers.js";
import type { PreflightCheck, RemoteTrainingInfo, TrainDescription, TrainEvent } from "./types.js";

export interface TrainRequest {
  selfiesDir: string;
  name: string;
  backend: TrainBackend;
  options: Omit<TrainPlanInput, "name" | "home" | "selfiesDir" | "gpu" | "datasetDir">;
  force: boolean;
  dryRun: boolean;
  restart: boolean;
  /** Only re-attach to / continue an existing training; never start (or pay for) a new one. */
  resume?: boolean;
  /** `--backend replicate` flags. */
  replicate?: { trainer?: string; destination?: string; cancelOnInterrupt?: boolean };
  /** Resolved settings (HEADSHOT_HOME, ai-toolkit location, Replicate base URL). */
  settings: GlobalSettings;
  env: Env;
  /** The child process shares the terminal, so it got the Ctrl-C too (interactive runs). */
  childSharesTerminal: boolean;
  /**
   * `train --backend test`: register a labelled rehearsal identity (no LoRA) in the test-mode
   * registry `<HEADSHOT_HOME>/test-mode/`, shared with `batch --backend test`; the real registry
   * never holds one, and real backends refuse it (src/generate/rehearsal.ts).
   */
  rehearsal?: boolean;
}

/** What `train` tells its caller while it runs (the CLI prints them; batch shows progress). */
export type TrainUseCaseEvent =
  | { type: "train.already-trained"; identity: Identity }
  | { type: "train.preflight"; checks: PreflightCheck[] }
  | { type: "train.restarted"; name: string }
  | { type: "selfies.checking"; dir: string }
  | { type: "selfies.checked"; ok: true; usable: number; total: number; verdict: string }
  | { type: "selfies.checked"; ok: false }
  | { type: "train.warning"; message: string }
  | { type: "train.resuming"; name: string; startedAt: string }
  | { type: "dataset.preparing" }
  | { type: "dataset.prepared"; images: number; dir: string }
  /** `rehearsal`: `--backend test` trains nothing, it registers the prepared selfies (issue 15). */
  | { type: "train.starting"; name: string; plan: TrainPlan; rehearsal?: boolean }
  | { type: "trainer"; name: string; event: TrainEvent }
  | { type: "train.ended"; name: string; ok: boolean; alreadyFinished?: boolean; step?: number; rehearsal?: boolean }
  | { type: "train.remote"; remote: RemoteTrainingInfo }
  | { type: "identity.registered"; name: string; file: string; lora: string }
  /** The identity was registered as a rehearsal (`rehearsal` request): what it can and cannot do. */
  | { type: "identity.rehearsal"; name: string };

export interface TrainOutcome {
  identity?: Identity;
  plan?: TrainPlan;
  alreadyTrained: boolean;
  dryRun: boolean;
  /** --dry-run: the exact files and command, and notes on what a real run would do. */
  description?: TrainDescription;
  notes?: string[];
}
