/**
 * One person of a batch: identity (check -> train only when needed), then each preset, then how it
 * ended. A person's failure never stops the others; even a bug is reported per person (exit 1).
 */
import { ExitCode, HeadshotError, InterruptedError, isHeadshotError, type ExitCodeValue } from "../errors.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import type { UseCaseIo } from "../use-case.js";
import { headshotCommand } from "../util/shell-quote.js";
import type { Budget } from "./budget.js";
import type { BatchEvent } from "./events.js";
import { runPresetStep } from "./gen-step.js";
import { ensureIdentity, FAILED_TRAINING_CODES } from "./identity-step.js";
import { BudgetStop, type PersonOutcome } from "./outcome.js";
import type { BatchBackend, ResolvedBatch, ResolvedPerson } from "./resolve.js";
import type { Lane, WeightedSlots } from "./slots.js";

export interface BatchOptions {
  backend?: BatchBackend;
  only?: string[];
  concurrency?: number;
  retrainFailed?: boolean;
}

/** A non-HeadshotError caught while running one person: reported, with its stack, as a bug (exit 1). */
class BugError extends HeadshotError {
  constructor(message: string, cause: unknown) {
    super("E_BUG", ExitCode.bug, message, {
      cause,
      details: ((cause as Error | undefined)?.stack ?? "").split("\n").slice(1, 6).map((l) => l.trim()),
      hint: "please report it at https://github.com/headshot-cli/headshot/issues with this output (never include your API token)",
    });
  }
}

/** What every person of one run shares: the file, the spend cap, the slots and lanes. */
export interface BatchRun {
  resolved: ResolvedBatch;
  batchDir: string;
  /** The batch file as the user wrote it (relative to cwd when inside it), for resume commands. */
  shown: string;
  options: BatchOptions;
  settings: GlobalSettings;
  env: Env;
  budget: Budget;
  slots: WeightedSlots;
  gpu: Lane;
  faces: Lane;
  io: UseCaseIo<BatchEvent>;
}

function resumeHint(file: string, person: ResolvedPerson, options: BatchOptions, extra = "", retrain = false): string {
  return `${extra}${headshotCommand(
    ["batch", file],
    [
      ["--only", person.name],
      ["--backend", options.backend],
      ["--retrain-failed", retrain || options.retrainFailed],
    ],
  )}`;
}

export async function runPerson(run: BatchRun, person: ResolvedPerson): Promise<PersonOutcome> {
  const { resolved, settings, budget, slots, gpu, faces, options } = run;
  const { signal, now } = run.io;
  const emit = run.io.onEvent;
  const home = settings.home.value;
  const placeholder = person.backend === "test";
  const outcome: PersonOutcome = { name: person.name, status: "done", backend: person.backend, placeholder, images: 0, expected: 0, spentUsd: 0, presets: [], failures: [], exitCode: ExitCode.ok };
  emit({ type: "person.start", person: person.name, backend: person.backend, placeholder });
  try {
    if (signal.aborted) throw new InterruptedError();
    const id = await ensureIdentity({ settings, env: run.env, signal, now, person, home, budget, gpu, faces, onEvent: emit, retrainFailed: Boolean(options.retrainFailed) });
    outcome.identity = { name: id.identity.name, trained: id.trained, placeholder: id.placeholder };
    outcome.spentUsd += id.costUsd;
    for (const preset of person.presets) {
      if (signal.aborted) throw new InterruptedError();
      const step = () =>
        runPresetStep({
          person,
          preset,
          identity: id.identity,
          home: id.home,
          out: resolved.out,
          batchDir: run.batchDir,
          settings,
          env: run.env,
          signal,
          budget,
          slots,
          faces,
          concurrency: resolved.concurrency,
          resume: resumeHint(run.shown, person, options),
          onEvent: emit,
          now,
        });
      let result;
      try {
        result = person.backend === "local" ? await gpu.run(step) : await step();
      } catch (error) {
        // Keep the preset in the summary (expected images, why it stopped), then stop this person.
        outcome.presets.push({ preset: preset.written, dir: "", status: error instanceof BudgetStop ? "stopped" : "failed", images: 0, expected: preset.count ?? 0, failed: preset.count ?? 0, costUsd: 0 });
        throw error;
      }
      outcome.presets.push(result);
      if (result.status === "interrupted") throw new InterruptedError();
      if (result.status === "failed") {
        outcome.status = "failed";
        outcome.exitCode = ExitCode.jobFailed;
        // --until short of K, or its own budget: the use case's words; else the images that did not land.
        const message = result.code && result.code !== "E_GEN_INCOMPLETE" ? (result.notes?.[0] ?? result.code) : `${result.failed} of ${result.expected} images did not land${result.notes?.length ? ` (${result.notes.join("; ")})` : ""}`;
        outcome.failures.push({ code: result.code ?? "E_GEN_INCOMPLETE", message: `${result.preset}: ${message}` });
      }
    }
  } catch (error) {
    recordFailure(outcome, error, signal);
  }
  finishOutcome(run, person, outcome);
  emit({ type: "person.done", person: person.name, status: outcome.status, images: outcome.images, expected: outcome.expected, spentUsd: outcome.spentUsd, placeholder, ...(outcome.stopped ? { stopped: outcome.stopped } : {}), ...(outcome.failures[0] ? { error: outcome.failures[0] } : {}) });
  return outcome;
}

/** A person's failure never stops the others; even a bug is reported per person (exit 1). */
function recordFailure(outcome: PersonOutcome, error: unknown, signal: AbortSignal): void {
  const err = isHeadshotError(error)
    ? error
    : signal.aborted
      ? new InterruptedError()
      : new BugError(`unexpected error (a bug in headshot): ${error instanceof Error ? error.message : String(error)}`, error);
  outcome.failures.push({ code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), ...(err.code === "E_BUG" ? { details: err.details } : {}) });
  outcome.exitCode = err.exitCode as ExitCodeValue;
  if (err instanceof BudgetStop) {
    outcome.status = "stopped";
    outcome.stopped = "budget";
  } else if (err instanceof InterruptedError || signal.aborted) {
    outcome.status = "interrupted";
    outcome.exitCode = ExitCode.interrupted;
  } else if (err.exitCode === ExitCode.selfiesRejected) outcome.status = "rejected";
  else outcome.status = "failed";
}

/** Totals of the person's presets, and the command that does what is left. */
function finishOutcome(run: BatchRun, person: ResolvedPerson, outcome: PersonOutcome): void {
  outcome.images = outcome.presets.reduce((n, p) => n + p.images, 0);
  outcome.expected = outcome.presets.reduce((n, p) => n + p.expected, 0);
  outcome.spentUsd = Math.round((outcome.spentUsd + outcome.presets.reduce((n, p) => n + p.costUsd, 0)) * 1000) / 1000;
  if (outcome.status === "done") return;
  const failedTraining = outcome.failures.some((f) => FAILED_TRAINING_CODES.includes(f.code));
  const fix =
    outcome.stopped === "budget"
      ? "raise `budget:` in the batch file, then re-run: "
      : outcome.status === "rejected"
        ? "fix the selfie set (headshot check <folder>), then re-run: "
        : failedTraining
          ? "the training failed on Replicate; start a new (paid) one with: "
          : "re-run to do only what is missing: ";
  outcome.resume = resumeHint(run.shown, person, run.options, fix, failedTraining);
}
