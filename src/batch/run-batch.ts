/**
 * `headshot batch <file>`: per person check -> train (only when needed) -> gen -> score/select,
 * with one global prediction limit, one local GPU lane and a spend cap. Never prompts. Re-running
 * does only what is missing (identities are reused, finished images skipped, running predictions
 * collected); see identity-step.ts and gen-step.ts for what counts as "changed".
 * A use case: plain input and {signal, onEvent, now}; the CLI renders events and the result.
 */
import { ExitCode, UsageError, type HeadshotError } from "../errors.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import type { UseCaseIo } from "../use-case.js";
import { closest } from "../util/did-you-mean.js";
import { shellQuote } from "../util/shell-quote.js";
import { Budget } from "./budget.js";
import type { BatchEvent } from "./events.js";
import { loadBatchFile } from "./load.js";
import { batchExitCode, BatchFailedError, type PersonOutcome } from "./outcome.js";
import { preflight, spentSoFar } from "./preflight.js";
import { resolveBatch, type ResolvedBatch } from "./resolve.js";
import { runPerson, type BatchOptions } from "./run-person.js";
import { Lane, WeightedSlots } from "./slots.js";

export type { BatchOptions } from "./run-person.js";

export interface BatchInput {
  file: string;
  options: BatchOptions;
  cwd: string;
  settings: GlobalSettings;
  env: Env;
}

export interface BatchResult {
  /** The --json summary (also carried by the error when not every person is done). */
  summary: Record<string, unknown>;
  outcomes: PersonOutcome[];
  placeholderRun: boolean;
  spentUsd: number;
  budgetUsd: number | undefined;
  error: HeadshotError | undefined;
}

export async function runBatch(input: BatchInput, io: UseCaseIo<BatchEvent>): Promise<BatchResult> {
  try {
    return await runLoaded(input, io);
  } finally {
    // The face model workers (check, scoring) must not keep a finished CI job alive.
    const { closeFaceModel } = await import("../selfies/faces.js");
    await closeFaceModel();
  }
}

/** The people --only names (the budget still counts what the others spent). */
function selectPeople(resolved: ResolvedBatch, only: string[] | undefined, path: string): ResolvedBatch {
  if (!only?.length) return resolved;
  const names = resolved.people.map((p) => p.name);
  const unknown = only.filter((n) => !names.includes(n));
  if (unknown.length) {
    const guess = closest(unknown[0] ?? "", names);
    throw new UsageError(`--only: ${unknown.map((n) => `"${n}"`).join(", ")} not in ${path}`, {
      code: "E_BATCH_ONLY",
      hint: guess ? `did you mean --only ${guess}?` : `people in the file: ${names.join(", ")}`,
    });
  }
  return { ...resolved, people: resolved.people.filter((p) => only.includes(p.name)) };
}

async function runLoaded(input: BatchInput, io: UseCaseIo<BatchEvent>): Promise<BatchResult> {
  const { options, settings, cwd } = input;
  const loaded = await loadBatchFile(input.file, cwd);
  const everyone = resolveBatch(loaded, { backend: options.backend, cwd });
  const resolved = selectPeople(everyone, options.only, loaded.path);
  if (options.concurrency !== undefined) resolved.concurrency = options.concurrency;
  const home = settings.home.value;
  await preflight(resolved, settings, input.env);

  const budget = new Budget(resolved.budget);
  budget.addSpent(await spentSoFar(everyone, home));
  const placeholderRun = resolved.people.every((p) => p.backend === "test");
  io.onEvent({ type: "batch.start", file: loaded.path, out: resolved.out, people: resolved.people.length, budget: resolved.budget ?? null, spentUsd: budget.spent, concurrency: resolved.concurrency, placeholder: resolved.people.some((p) => p.backend === "test") });
  const shown = loaded.path.startsWith(cwd + "/") ? loaded.path.slice(cwd.length + 1) : loaded.path;
  const run = { resolved, batchDir: loaded.dir, shown, options, settings, env: input.env, budget, slots: new WeightedSlots(resolved.concurrency), gpu: new Lane(), faces: new Lane(), io };
  // People run side by side: their predictions share the slots, local work shares the GPU lane.
  const outcomes = await Promise.all(resolved.people.map((person) => runPerson(run, person)));

  const summary = {
    file: loaded.path,
    out: resolved.out,
    placeholder: placeholderRun,
    budget: resolved.budget ?? null,
    spentUsd: budget.spent,
    people: outcomes.map((o) => ({
      name: o.name,
      status: o.status,
      ...(o.stopped ? { stopped: o.stopped } : {}),
      backend: o.backend,
      placeholder: o.placeholder,
      identity: o.identity ?? null,
      images: o.images,
      expected: o.expected,
      spentUsd: o.spentUsd,
      presets: o.presets,
      failures: o.failures,
      ...(o.resume ? { resume: o.resume } : {}),
    })),
  };
  const error = batchError(outcomes, summary, shown, options.backend);
  return { summary, outcomes, placeholderRun, spentUsd: budget.spent, budgetUsd: resolved.budget, error };
}

/** Exit 0 when every person is done; otherwise the error naming who is not, with how to go on. */
function batchError(outcomes: PersonOutcome[], summary: Record<string, unknown>, shown: string, backend: string | undefined): HeadshotError | undefined {
  const exitCode = batchExitCode(outcomes);
  if (exitCode === ExitCode.ok) return undefined;
  const notDone = outcomes.filter((o) => o.status !== "done");
  const names = notDone.map((o) => `${o.name} (${o.status}${o.stopped ? `: ${o.stopped}` : ""})`).join(", ");
  const code = exitCode === ExitCode.interrupted ? "E_INTERRUPTED" : notDone.some((o) => o.stopped === "budget") && notDone.every((o) => o.status === "stopped") ? "E_BUDGET" : "E_BATCH_INCOMPLETE";
  return new BatchFailedError(code, exitCode, `${notDone.length} of ${outcomes.length} people not done: ${names}`, summary, {
    hint: exitCode === ExitCode.interrupted ? `re-run the same command to resume: headshot batch ${shellQuote(shown)}${backend ? ` --backend ${backend}` : ""}` : "see each person's failures above; re-running the batch does only what is missing",
  });
}
