/**
 * `headshot batch <file>`: per person check -> train (only when needed) -> gen -> score/select,
 * with one global prediction limit, one local GPU lane and a spend cap. Never prompts. Re-running
 * does only what is missing (identities are reused, finished images skipped, running predictions
 * collected); see identity-step.ts and gen-step.ts for what counts as "changed".
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CommandContext } from "../cli/context.js";
import { ExitCode, HeadshotError, InterruptedError, UsageError, isHeadshotError, type ExitCodeValue } from "../errors.js";
import { closest } from "../util/did-you-mean.js";
import { Budget } from "./budget.js";
import { assertDistinctPresetFolders, runPresetStep } from "./gen-step.js";
import { ensureIdentity, FAILED_TRAINING_CODES, homeFor, trainingCostOf } from "./identity-step.js";
import { loadBatchFile } from "./load.js";
import { batchExitCode, BatchFailedError, BudgetStop, type PersonOutcome } from "./outcome.js";
import { resolveBatch, type BatchBackend, type ResolvedBatch, type ResolvedPerson } from "./resolve.js";
import { Lane, WeightedSlots } from "./slots.js";
import { BatchView, type BatchEvent } from "./view.js";

export interface BatchCliOptions {
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

function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Everything that can be known wrong before anything runs: exit 2 up front, not halfway. */
async function preflight(ctx: CommandContext, batch: ResolvedBatch, home: string): Promise<void> {
  const settings = await ctx.settings();
  const { loadPreset } = await import("../presets/load.js");
  const { findIdentity } = await import("../identity/registry.js");
  const { dirname } = await import("node:path");
  const problems: string[] = [];
  const presetErrors: unknown[] = [];
  for (const person of batch.people) {
    const names: string[] = [];
    for (const preset of person.presets) {
      try {
        names.push((await loadPreset(preset.ref, { cwd: dirname(batch.file), userDirs: settings.presetDirs })).name);
      } catch (error) {
        if (isHeadshotError(error) && error.diagnostics.length) presetErrors.push(error);
        else problems.push(`people[${person.name}] preset "${preset.written}": ${(error as Error).message}${isHeadshotError(error) && error.hint ? ` (${error.hint})` : ""}`);
      }
    }
    try {
      assertDistinctPresetFolders(person.name, names);
    } catch (error) {
      problems.push((error as Error).message);
    }
    if (person.selfies && !(await exists(person.selfies))) problems.push(`people[${person.name}]: selfies folder not found: ${person.selfies}`);
    if (!person.trains) {
      const found = (await findIdentity(homeFor(home, person.backend), person.identity)) ?? (person.backend === "test" ? await findIdentity(home, person.identity) : undefined);
      if (!found) problems.push(`people[${person.name}]: no identity named "${person.identity}" (train it with \`headshot train <selfies> --name ${person.identity}\`, or give \`selfies:\`)`);
    }
  }
  if (presetErrors[0]) throw presetErrors[0];
  if (problems.length) {
    throw new UsageError(`${batch.file}: ${problems.length} problem${problems.length === 1 ? "" : "s"} found before starting`, {
      code: "E_BATCH_INVALID",
      details: problems,
      hint: "fix the batch file (paths are relative to it); nothing was run or paid for",
    });
  }
  if (batch.people.some((p) => p.backend === "replicate")) {
    const { createReplicateSession } = await import("../replicate/client.js");
    try {
      createReplicateSession({ env: ctx.env, ...(settings.replicateBaseUrl.value ? { baseUrl: settings.replicateBaseUrl.value } : {}) });
    } catch (error) {
      if (isHeadshotError(error)) {
        throw new UsageError(error.message, {
          code: error.code,
          hint: `${error.hint ?? ""}${error.hint ? "; " : ""}or try the whole batch for free first: headshot batch ${shellQuote(batch.file)} --backend test`,
        });
      }
      throw error;
    }
  }
}

/** What earlier runs of this batch already paid: image costs in every manifest under <out>/<person>/, trainings. */
async function spentSoFar(batch: ResolvedBatch, home: string): Promise<number> {
  const { findIdentity } = await import("../identity/registry.js");
  let total = 0;
  for (const person of batch.people) {
    if (person.backend === "test") continue;
    let folders: string[] = [];
    try {
      folders = await readdir(join(batch.out, person.name));
    } catch {
      // nothing generated yet
    }
    for (const folder of folders) {
      try {
        const { readFile } = await import("node:fs/promises");
        const manifest = JSON.parse(await readFile(join(batch.out, person.name, folder, "manifest.json"), "utf8")) as { batch?: { placeholder?: boolean }; images?: Record<string, { costUsd?: number }> };
        if (manifest.batch?.placeholder) continue;
        for (const entry of Object.values(manifest.images ?? {})) total += typeof entry.costUsd === "number" ? entry.costUsd : 0;
      } catch {
        // no manifest here
      }
    }
    if (person.trains) {
      const identity = await findIdentity(home, person.identity).catch(() => undefined);
      if (identity) total += trainingCostOf(identity);
    }
  }
  return total;
}

function resumeHint(file: string, person: ResolvedPerson, options: BatchCliOptions, extra = "", retrain = false): string {
  const args = ["headshot", "batch", file, "--only", person.name];
  if (options.backend) args.push("--backend", options.backend);
  if (retrain || options.retrainFailed) args.push("--retrain-failed");
  return `${extra}${args.map(shellQuote).join(" ")}`;
}

export async function runBatchCommand(ctx: CommandContext, file: string, options: BatchCliOptions): Promise<void> {
  try {
    await runBatch(ctx, file, options);
  } finally {
    // The face model workers (check, scoring) must not keep a finished CI job alive.
    const { closeFaceModel } = await import("../selfies/faces.js");
    await closeFaceModel();
  }
}

async function runBatch(ctx: CommandContext, file: string, options: BatchCliOptions): Promise<void> {
  const loaded = await loadBatchFile(file, ctx.cwd);
  const resolved = resolveBatch(loaded, { backend: options.backend, cwd: ctx.cwd });
  // The budget is the whole file's: a run of some people (--only) still counts what the others spent.
  const everyone: ResolvedBatch = { ...resolved, people: [...resolved.people] };
  if (options.only?.length) {
    const names = resolved.people.map((p) => p.name);
    const unknown = options.only.filter((n) => !names.includes(n));
    if (unknown.length) {
      const guess = closest(unknown[0] ?? "", names);
      throw new UsageError(`--only: ${unknown.map((n) => `"${n}"`).join(", ")} not in ${loaded.path}`, {
        code: "E_BATCH_ONLY",
        hint: guess ? `did you mean --only ${guess}?` : `people in the file: ${names.join(", ")}`,
      });
    }
    resolved.people = resolved.people.filter((p) => options.only?.includes(p.name));
  }
  if (options.concurrency !== undefined) resolved.concurrency = options.concurrency;
  const settings = await ctx.settings();
  const home = settings.home.value;
  await preflight(ctx, resolved, home);

  const budget = new Budget(resolved.budget);
  budget.addSpent(await spentSoFar(everyone, home));
  const view = new BatchView(ctx.reporter, resolved.people.map((p) => p.name));
  const emit = (event: BatchEvent) => view.emit(event);
  const placeholderRun = resolved.people.every((p) => p.backend === "test");
  emit({ type: "batch.start", file: loaded.path, out: resolved.out, people: resolved.people.length, budget: resolved.budget ?? null, spentUsd: budget.spent, concurrency: resolved.concurrency, placeholder: resolved.people.some((p) => p.backend === "test") });

  const slots = new WeightedSlots(resolved.concurrency);
  const gpu = new Lane();
  const faces = new Lane();
  const shown = loaded.path.startsWith(ctx.cwd + "/") ? loaded.path.slice(ctx.cwd.length + 1) : loaded.path;

  const runPerson = async (person: ResolvedPerson): Promise<PersonOutcome> => {
    const placeholder = person.backend === "test";
    const outcome: PersonOutcome = { name: person.name, status: "done", backend: person.backend, placeholder, images: 0, expected: 0, spentUsd: 0, presets: [], failures: [], exitCode: ExitCode.ok };
    emit({ type: "person.start", person: person.name, backend: person.backend, placeholder });
    try {
      if (ctx.signal.aborted) throw new InterruptedError();
      const id = await ensureIdentity({ ctx, person, home, budget, gpu, faces, onEvent: emit, retrainFailed: Boolean(options.retrainFailed) });
      outcome.identity = { name: id.identity.name, trained: id.trained, placeholder: id.placeholder };
      outcome.spentUsd += id.costUsd;
      for (const preset of person.presets) {
        if (ctx.signal.aborted) throw new InterruptedError();
        const run = () =>
          runPresetStep({
            person,
            preset,
            identity: id.identity,
            home: id.home,
            out: resolved.out,
            batchDir: loaded.dir,
            settings,
            env: ctx.env,
            signal: ctx.signal,
            budget,
            slots,
            faces,
            concurrency: resolved.concurrency,
            onEvent: emit,
            now: () => ctx.now(),
          });
        let result;
        try {
          result = person.backend === "local" ? await gpu.run(run) : await run();
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
          outcome.failures.push({ code: "E_GEN_INCOMPLETE", message: `${result.preset}: ${result.failed} of ${result.expected} images did not land${result.notes?.length ? ` (${result.notes.join("; ")})` : ""}` });
        }
      }
    } catch (error) {
      // A person's failure never stops the others; even a bug is reported per person (exit 1).
      const err = isHeadshotError(error)
        ? error
        : ctx.signal.aborted
          ? new InterruptedError()
          : new BugError(`unexpected error (a bug in headshot): ${error instanceof Error ? error.message : String(error)}`, error);
      outcome.failures.push({ code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}), ...(err.code === "E_BUG" ? { details: err.details } : {}) });
      outcome.exitCode = err.exitCode as ExitCodeValue;
      if (err instanceof BudgetStop) {
        outcome.status = "stopped";
        outcome.stopped = "budget";
      } else if (err instanceof InterruptedError || ctx.signal.aborted) {
        outcome.status = "interrupted";
        outcome.exitCode = ExitCode.interrupted;
      } else if (err.exitCode === ExitCode.selfiesRejected) outcome.status = "rejected";
      else outcome.status = "failed";
    }
    outcome.images = outcome.presets.reduce((n, p) => n + p.images, 0);
    outcome.expected = outcome.presets.reduce((n, p) => n + p.expected, 0);
    outcome.spentUsd = Math.round((outcome.spentUsd + outcome.presets.reduce((n, p) => n + p.costUsd, 0)) * 1000) / 1000;
    if (outcome.status !== "done") {
      const failedTraining = outcome.failures.some((f) => FAILED_TRAINING_CODES.includes(f.code));
      const fix =
        outcome.stopped === "budget"
          ? "raise `budget:` in the batch file, then re-run: "
          : outcome.status === "rejected"
            ? "fix the selfie set (headshot check <folder>), then re-run: "
            : failedTraining
              ? "the training failed on Replicate; start a new (paid) one with: "
              : "re-run to do only what is missing: ";
      outcome.resume = resumeHint(shown, person, options, fix, failedTraining);
    }
    emit({ type: "person.done", person: person.name, status: outcome.status, images: outcome.images, expected: outcome.expected, spentUsd: outcome.spentUsd, placeholder, ...(outcome.stopped ? { stopped: outcome.stopped } : {}), ...(outcome.failures[0] ? { error: outcome.failures[0] } : {}) });
    return outcome;
  };

  // People run side by side: their predictions share the slots, local work shares the GPU lane.
  let outcomes: PersonOutcome[];
  try {
    outcomes = await Promise.all(resolved.people.map((person) => runPerson(person)));
  } finally {
    // Work a failed step left running (e.g. a preset's other images after a full disk) must not
    // write after the summary: --json promises that the summary is the last line.
    view.close();
  }

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
  const notDone = outcomes.filter((o) => o.status !== "done");
  const r = ctx.reporter;
  if (!r.json) {
    const lines = [r.style("bold", `${outcomes.length - notDone.length} of ${outcomes.length} people done · ${outcomes.reduce((n, o) => n + o.images, 0)} images · ${placeholderRun ? "PLACEHOLDERS, free" : `$${budget.spent.toFixed(2)} spent${resolved.budget !== undefined ? ` of $${resolved.budget.toFixed(2)}` : ""}`}`)];
    for (const o of outcomes) {
      lines.push(`  ${o.name}: ${o.status}${o.stopped ? ` (${o.stopped})` : ""}${o.placeholder ? " · PLACEHOLDER" : ""} · ${o.images}/${o.expected} images${o.presets.map((p) => (p.gallery ? ` · ${p.gallery}` : "")).join("")}`);
      for (const f of o.failures) lines.push(`    ${r.style("red", f.code)} ${f.message}${f.hint ? `\n    how to fix: ${f.hint}` : ""}`);
      if (o.resume) lines.push(`    ${o.resume}`);
    }
    if (placeholderRun) lines.push(r.style("yellow", "TEST MODE: every image is a labelled PLACEHOLDER (a PREVIEW drawn from the person's selfies), not a generated photo. Drop --backend test to make real ones."));
    r.result(lines.join("\n"));
  }
  const exitCode = batchExitCode(outcomes);
  if (exitCode === ExitCode.ok) {
    r.summary(summary);
    return;
  }
  const names = notDone.map((o) => `${o.name} (${o.status}${o.stopped ? `: ${o.stopped}` : ""})`).join(", ");
  const code = exitCode === ExitCode.interrupted ? "E_INTERRUPTED" : notDone.some((o) => o.stopped === "budget") && notDone.every((o) => o.status === "stopped") ? "E_BUDGET" : "E_BATCH_INCOMPLETE";
  throw new BatchFailedError(code, exitCode, `${notDone.length} of ${outcomes.length} people not done: ${names}`, summary, {
    hint: exitCode === ExitCode.interrupted ? `re-run the same command to resume: headshot batch ${shellQuote(shown)}${options.backend ? ` --backend ${options.backend}` : ""}` : "see each person's failures above; re-running the batch does only what is missing",
  });
}
