/**
 * Pure wording of a generation run for people and machines: the progress line, the final summary
 * (what landed, what did not and why), and the summary data of `--json`. No I/O.
 */
import { formatDuration, formatUsd } from "./format.js";
import type { EngineEvent, EngineResult } from "./engine.js";
import type { ManifestEntry, ManifestReference } from "./manifest.js";
import type { GenPlan } from "./plan.js";

export type Style = (kind: "bold" | "dim" | "green" | "yellow" | "red" | "cyan", text: string) => string;

/** "12/24 done · 1 failed · 3 running · ETA 40s · $0.38 spent" */
export function progressLine(event: Extract<EngineEvent, { type: "progress" }>, placeholder: boolean): string {
  const parts = [`${event.done}/${event.total} done`];
  if (event.failed) parts.push(`${event.failed} failed`);
  if (event.filtered) parts.push(`${event.filtered} filtered`);
  if (event.running) parts.push(`${event.running} running`);
  if (event.etaSeconds !== null && event.done < event.total) parts.push(`ETA ${formatDuration(event.etaSeconds)}`);
  parts.push(placeholder ? "placeholders, free" : `${formatUsd(event.spentUsd)} spent`);
  return `Generating: ${parts.join(" · ")}`;
}

export interface SummaryContext {
  plan: GenPlan;
  modelRef: string;
  backend: string;
  placeholder: boolean;
  /** Test backend previews drawn from a known person's selfies (rehearsal/). */
  rehearsal?: boolean;
  resume: string;
  manifest: string;
  references?: ManifestReference[] | undefined;
}

export interface RunSummary {
  data: Record<string, unknown> & { done: number };
  lines: string[];
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

export function summarizeRun(result: EngineResult, context: SummaryContext, style: Style = (_k, t) => t): RunSummary {
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
  const lines: string[] = [];
  const total = result.total;
  const headline = `${done.length} of ${total} image${total === 1 ? "" : "s"} in ${plan.outDir}`;
  const made = result.skipped ? ` (${result.skipped} from an earlier run, ${result.finished} now)` : "";
  const cost = context.placeholder ? "free" : `${formatUsd(result.spentThisRunUsd)} this run${result.spentUsd !== result.spentThisRunUsd ? `, ${formatUsd(result.spentUsd)} for the batch` : ""} (estimated from the price table)`;
  lines.push(style(done.length === total ? "green" : "yellow", `${done.length === total ? "✔" : "!"} ${headline}${made}`));
  lines.push(`  time ${formatDuration(result.seconds)} · cost ${cost}`);
  lines.push(`  manifest ${context.manifest}`);
  if (context.rehearsal) {
    lines.push(style("yellow", "  These are PREVIEWS drawn from your own selfies by --backend test (a free rehearsal), not generated photos."));
  } else if (context.placeholder) {
    lines.push(style("yellow", "  These are TEST PLACEHOLDERS made by --backend test, not real photos."));
  }
  if (context.references?.length) {
    lines.push(`  references used (${context.references.length}):`);
    for (const r of context.references) lines.push(`    ${r.file}${r.reason ? `  ${style("dim", r.reason)}` : ""}`);
  }
  const failureDetails = notDone.map(describe);
  const interruptDetails = [
    ...result.interruptedJobs
      .filter((j) => j.remoteId)
      .map((j) => (j.action === "cancelled" ? `${j.key}: prediction ${j.remoteId} was still queued and was cancelled` : `${j.key}: prediction ${j.remoteId} left running; the re-run collects it`)),
  ];
  return { data, lines, failureDetails, interruptDetails };
}
