/**
 * How a generation run ended, as data: the `--json` summary of the batch, a line per image that
 * did not land, and the error it exits with (interrupted, refused, --until short, --budget
 * stopped, some images missing). Pure: the CLI words it (src/cli/views/gen-summary.ts).
 */
import { InterruptedError, JobFailedError, type ErrorCode, type HeadshotError, type HeadshotErrorOptions } from "../errors.js";
import type { EngineResult } from "../generation/engine.js";
import { oomHint } from "../generation/local/local-errors.js";
import type { MemoryMode } from "../generation/local/memory-mode.js";
import type { ManifestEntry, ManifestReference } from "../generation/manifest.js";
import type { GenPlan } from "../generation/plan.js";

/** The generation run failed for some images; carries the batch numbers into the --json summary. */
export class BatchIncompleteError extends JobFailedError {
  constructor(
    message: string,
    readonly batch: Record<string, unknown>,
    options: HeadshotErrorOptions & { code?: ErrorCode } = {},
  ) {
    super(message, { code: "E_GEN_INCOMPLETE", ...options });
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), batch: this.batch };
  }
}

export interface RunContext {
  plan: GenPlan;
  modelRef: string;
  backend: string;
  placeholder: boolean;
  /** Test backend previews drawn from a known person's selfies (src/generation/rehearsal/). */
  rehearsal?: boolean;
  resume: string;
  manifest: string;
  references?: ManifestReference[] | undefined;
}

export interface RunReport {
  data: Record<string, unknown> & { done: number };
  failureDetails: string[];
  interruptDetails: string[];
}

function describe(entry: ManifestEntry): string {
  const why = entry.error ? `${entry.error.message}${entry.error.code ? ` [${entry.error.code}]` : ""}` : "not started";
  switch (entry.status) {
    case "filtered":
      return `${entry.key} (seed ${entry.seed}): filtered by the safety checker: ${why}`;
    case "failed":
      return `${entry.key} (seed ${entry.seed}): failed: ${why}`;
    case "created":
      return `${entry.key} (seed ${entry.seed}): prediction ${entry.predictionId ?? "?"} not collected yet${entry.error ? `: ${why}` : ""}`;
    case "creating":
      return `${entry.key} (seed ${entry.seed}): create sent, answer not received (the re-run looks for it before creating)`;
    default:
      return `${entry.key} (seed ${entry.seed}): ${entry.status}${entry.error ? `: ${why}` : ""}`;
  }
}

export function reportRun(result: EngineResult, context: RunContext): RunReport {
  const { plan } = context;
  const done = result.entries.filter((e) => e.status === "done");
  const notDone = result.entries.filter((e) => e.status !== "done");
  const failed = notDone.filter((e) => e.status === "failed");
  const filtered = notDone.filter((e) => e.status === "filtered");
  const pending = notDone.filter((e) => e.status !== "failed" && e.status !== "filtered");
  const costSource = context.placeholder ? "free" : result.entries.some((e) => e.costSource === "metrics") ? "metrics" : "price-table";
  const data = {
    backend: context.backend,
    modelRef: context.modelRef,
    manifest: context.manifest,
    placeholder: context.placeholder,
    total: result.total,
    done: done.length,
    skipped: result.skipped,
    made: result.finished,
    failed: failed.map((e) => ({ key: e.key, seed: e.seed, code: e.error?.code, message: e.error?.message })),
    filtered: filtered.map((e) => ({ key: e.key, seed: e.seed, code: e.error?.code, message: e.error?.message })),
    pending: pending.map((e) => ({ key: e.key, seed: e.seed, status: e.status, predictionId: e.predictionId })),
    interrupted: result.interrupted,
    spentUsd: result.spentUsd,
    spentThisRunUsd: result.spentThisRunUsd,
    costSource,
    seconds: result.seconds,
    ...(context.references ? { references: context.references.map((r) => ({ file: r.file, reason: r.reason })) } : {}),
    images: result.entries.map((e) => ({ key: e.key, status: e.status, seed: e.seed, file: e.file ? `${plan.outDir}/${e.file}` : null, predictionId: e.predictionId ?? null, placeholder: e.placeholder ?? false })),
  };
  const interruptDetails = result.interruptedJobs
    .filter((j) => j.remoteId)
    .map((j) => (j.action === "cancelled" ? `${j.key}: prediction ${j.remoteId} was still queued and was cancelled` : `${j.key}: prediction ${j.remoteId} left running; the re-run collects it`));
  return { data, failureDetails: notDone.map(describe), interruptDetails };
}

/** What --until / --budget decided (curation-step.ts curationStop): "ok", an exit-5 failure, or nothing. */
export type CurationStop = "ok" | { message: string; options: HeadshotErrorOptions & { code: ErrorCode } } | undefined;

export interface Ending {
  result: EngineResult;
  report: RunReport;
  /** The batch's --json summary (the error carries it when the run did not fully land). */
  batch: Record<string, unknown>;
  backend: string;
  resume: string;
  stop: CurationStop;
  /** --backend local: the memory mode in use, for the out-of-memory hint. */
  memory: MemoryMode | undefined;
}

/** The error a finished (not thrown) run exits with, or undefined when every image it owed landed. */
export function endingError(e: Ending): HeadshotError | undefined {
  const { result, report, resume } = e;
  if (result.interrupted) {
    return new InterruptedError(`Interrupted: ${report.data.done} of ${result.total} images are done; the manifest is saved.`, {
      details: report.interruptDetails,
      hint:
        e.backend === "local"
          ? `re-run the same command to resume; finished images are kept: ${resume}`
          : `re-run the same command to resume (within an hour, so running predictions can still be collected): ${resume}`,
    });
  }
  // Nothing could run at all (token, credit, invalid input): the API error itself, exit 4.
  if (result.fatal && result.finished === 0) return result.fatal;
  if (e.stop === "ok") return undefined;
  if (e.stop) return new BatchIncompleteError(e.stop.message, e.batch, e.stop.options);
  if (report.data.done === result.total) return undefined;
  // GPU out of memory: the same advice as training, naming the switch that helps (local-errors.ts).
  const oom = e.memory && result.entries.some((x) => x.status !== "done" && x.error?.code === "E_LOCAL_GEN_OOM");
  const fix = oom && e.memory ? `${oomHint(e.memory)} Then` : "fix what is listed above if needed, then";
  return new BatchIncompleteError(`${result.total - report.data.done} of ${result.total} images did not land`, e.batch, {
    details: report.failureDetails,
    hint: `${fix} re-run to make only what is missing: ${resume}`,
  });
}
