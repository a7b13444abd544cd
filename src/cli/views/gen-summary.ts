/**
 * Pure wording of a generation run for people: the progress line and the final summary (what
 * landed, where, what it cost). The data behind it is src/generate/outcome.ts. No I/O.
 */
import { formatDuration, formatUsd } from "./format.js";
import type { EngineEvent, EngineResult } from "../../generation/engine.js";
import type { RunContext } from "../../generate/outcome.js";

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

/** The closing lines of a run for people: what landed, where, what it cost, which references. */
export function summaryLines(result: EngineResult, context: RunContext, style: Style = (_k, t) => t): string[] {
  const { plan } = context;
  const done = result.entries.filter((e) => e.status === "done");
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
  return lines;
}
