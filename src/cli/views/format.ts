/** Small human formats shared by the views (plan, run summary, score table, curation lines). */
import { percent } from "../../util/percent.js";

export function formatDuration(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function formatUsd(usd: number): string {
  return usd === 0 ? "$0" : usd < 0.01 ? `$${usd.toFixed(3)}` : `$${usd.toFixed(2)}`;
}

/** A relative likeness as a whole percentage; "-" when there is none (no face, not scored). */
export function formatPct(value: number | undefined | null): string {
  return value === undefined || value === null ? "-" : percent(value);
}

/** Pads a table cell to `width` (longer text is left as is). */
export function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}
