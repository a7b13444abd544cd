/**
 * The backend switch for `headshot train`. Each backend is a Trainer (types.ts); adding one is a
 * new case here plus its module (the Replicate trainer goes in src/training/replicate/).
 */
import { DependencyError, UsageError, type HeadshotError } from "../errors.js";
import type { GlobalSettings } from "../settings/settings.js";
import { closest } from "../util/did-you-mean.js";
import type { PreflightReport, Trainer } from "./types.js";

export const TRAIN_BACKENDS = ["local", "replicate", "test"] as const;
export type TrainBackend = (typeof TRAIN_BACKENDS)[number];

export interface TrainerDeps {
  settings: GlobalSettings;
  env: Record<string, string | undefined>;
  childSharesTerminal: boolean;
  /** `--backend replicate` options (flags of `train`); ignored by the other backends. */
  replicate?: {
    trainer?: string | undefined;
    destination?: string | undefined;
    cancelOnInterrupt: boolean;
    interactive: boolean;
    confirm?: ((question: string) => Promise<boolean>) | undefined;
    resumeCommand: string;
    now?: () => Date;
  };
}

/** Where the backend name came from, so the error blames the right place (issue 15). */
export type BackendSource = "--backend" | "HEADSHOT_BACKEND" | "headshot.config.yaml";

export function parseBackend(value: string, source: BackendSource = "--backend"): TrainBackend {
  if ((TRAIN_BACKENDS as readonly string[]).includes(value)) return value as TrainBackend;
  const guess = closest(value, TRAIN_BACKENDS);
  const where = source === "--backend" ? `--backend ${value}` : source === "HEADSHOT_BACKEND" ? `HEADSHOT_BACKEND=${value} (from the environment)` : `backend: ${value} (in headshot.config.yaml)`;
  const fix = source === "--backend" ? "--backend" : source === "HEADSHOT_BACKEND" ? "HEADSHOT_BACKEND=" : "backend: ";
  throw new UsageError(`unknown training backend: ${where}`, {
    code: "E_UNKNOWN_BACKEND",
    hint: `${guess ? `did you mean ${fix}${fix.endsWith("=") || fix.endsWith(": ") ? "" : " "}${guess}? ` : ""}train accepts: ${TRAIN_BACKENDS.join(", ")}`,
  });
}

export async function createTrainer(backend: TrainBackend, deps: TrainerDeps): Promise<Trainer> {
  switch (backend) {
    case "local": {
      const { LocalAiToolkitTrainer } = await import("./ai-toolkit/local-trainer.js");
      return new LocalAiToolkitTrainer({ settings: deps.settings, env: deps.env, childSharesTerminal: deps.childSharesTerminal });
    }
    case "replicate": {
      const { ReplicateTrainer } = await import("./replicate/replicate-trainer.js");
      return new ReplicateTrainer({ settings: deps.settings, env: deps.env, ...deps.replicate });
    }
    case "test": {
      // Free placeholder identity (no GPU, no token): used by `headshot batch --backend test`.
      const { TestTrainer } = await import("./test-trainer.js");
      return new TestTrainer();
    }
  }
}

/**
 * One DependencyError (exit 3) listing every failed preflight check with its fix; a missing
 * Replicate token is a configuration problem (exit 2, as for `gen --backend replicate`).
 */
export function preflightError(backend: TrainBackend, report: PreflightReport): HeadshotError {
  const failed = report.checks.filter((c) => !c.ok);
  const token = failed.find((c) => c.id === "replicate-token");
  if (backend === "replicate" && token) {
    return new UsageError("REPLICATE_API_TOKEN is not set, so headshot cannot train on Replicate", {
      code: "E_REPLICATE_TOKEN_MISSING",
      ...(token.hint ? { hint: token.hint } : {}),
    });
  }
  return new DependencyError(`--backend ${backend} is not ready: ${failed.map((c) => c.id).join(", ")} missing`, {
    code: "E_BACKEND_NOT_READY",
    details: failed.flatMap((c) => [`${c.id}: ${c.detail}`, ...(c.hint ? [`  fix: ${c.hint}`] : [])]),
    hint: backend === "local" ? 'fix the items above (README: "Setting up ai-toolkit on a GPU box"); `headshot doctor` re-checks them' : "fix the items above",
  });
}
