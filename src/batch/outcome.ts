/** What a batch reports per person, and the errors that end a person's run or the whole batch. */
import { ExitCode, HeadshotError, type ErrorCode, type ExitCodeValue, type HeadshotErrorOptions } from "../errors.js";
import type { Budget } from "./budget.js";

export type PersonStatus = "done" | "failed" | "rejected" | "stopped" | "interrupted";

export interface PresetOutcome {
  preset: string;
  dir: string;
  status: "done" | "skipped" | "failed" | "stopped" | "interrupted";
  images: number;
  expected: number;
  failed: number;
  costUsd: number;
  /** Why a failed preset failed (E_GEN_INCOMPLETE, E_GEN_UNTIL_SHORT, E_GEN_BUDGET). */
  code?: string;
  /** An earlier folder of this preset was moved aside because the preset (or identity) changed. */
  superseded?: string;
  kept?: number;
  gallery?: string;
  /** The face detail pass after the run (`polish:`). */
  polish?: { polished: number; keptOriginal: number; failed: number; costUsd: number; manifest: string };
  notes?: string[];
}

export interface PersonOutcome {
  name: string;
  status: PersonStatus;
  /** `stopped: budget` says why a person stopped early. */
  stopped?: "budget";
  backend: string;
  placeholder: boolean;
  identity?: { name: string; trained: boolean; placeholder: boolean };
  images: number;
  expected: number;
  spentUsd: number;
  presets: PresetOutcome[];
  failures: Array<{ code: string; message: string; hint?: string; details?: string[] }>;
  /** What to do to finish this person (empty when done). */
  resume?: string;
  /** Exit code this person's failure maps to (0 when done). */
  exitCode: ExitCodeValue;
}

/** A paid step whose estimate does not fit in what is left of the budget. */
export class BudgetStop extends HeadshotError {
  constructor(
    readonly step: string,
    readonly estimateUsd: number,
    budget: Budget,
  ) {
    super(
      "E_BUDGET",
      ExitCode.jobFailed,
      `budget: the ${step} would cost about $${estimateUsd.toFixed(2)}, but only $${Math.max(0, budget.left ?? 0).toFixed(2)} of the $${(budget.capUsd ?? 0).toFixed(2)} budget is left ($${budget.spent.toFixed(2)} spent)`,
      { hint: `raise \`budget:\` in the batch file (by at least $${(estimateUsd - Math.max(0, budget.left ?? 0)).toFixed(2)}) and re-run: only what is missing is done` },
    );
  }
}

/** The batch ended with people not done; carries the summary into the --json closing line. */
export class BatchFailedError extends HeadshotError {
  constructor(
    code: ErrorCode,
    exitCode: ExitCodeValue,
    message: string,
    readonly summary: Record<string, unknown>,
    options: HeadshotErrorOptions = {},
  ) {
    super(code, exitCode, message, options);
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), summary: this.summary };
  }
}

/**
 * The batch's exit code from its people: interrupted (130) over remote API refusals such as a bad
 * token or no credit (4) over a rejected selfie set (6) over any other failure or stop (5).
 */
export function batchExitCode(people: ReadonlyArray<Pick<PersonOutcome, "status" | "exitCode">>): ExitCodeValue {
  const codes = people.filter((p) => p.status !== "done").map((p) => p.exitCode);
  if (codes.length === 0) return ExitCode.ok;
  for (const code of [ExitCode.interrupted, ExitCode.remoteApi, ExitCode.usage, ExitCode.missingDependency, ExitCode.selfiesRejected, ExitCode.bug] as const) {
    if (codes.includes(code)) return code;
  }
  return ExitCode.jobFailed;
}
