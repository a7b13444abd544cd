/**
 * Predictions and trainings as the emulator keeps them: a status lifecycle driven by the clock
 * (starting → processing with growing logs → terminal; https://replicate.com/docs/topics/predictions/lifecycle), cancel, deadlines
 * (`aborted`), and data retention (`data_removed`, output null: 2.4).
 */
import { timestamp } from "./http.js";
import type { OutputSpec } from "./catalog.js";

export type Status = "starting" | "processing" | "succeeded" | "failed" | "canceled" | "aborted";

export interface Job {
  kind: "prediction" | "training";
  id: string;
  model: string;
  /** "hidden" for official models, else the 64-hex version id. */
  version: string;
  input: Record<string, unknown>;
  createdAt: number;
  startAt: number;
  endAt: number;
  /** Decided at create time (faults, NSFW, bad LoRA), revealed at endAt. */
  outcome: { status: "succeeded" } | { status: "failed"; error: string } | { status: "aborted" };
  canceledAt?: number;
  deadline?: number;
  /** Log lines for a progress fraction in [0, 1]. */
  logLines: (fraction: number) => string[];
  settled: boolean;
  /** Filled when settled with success. */
  output?: unknown;
  /** Called once when the job succeeds (registers files, creates the trained version). */
  onSuccess?: (job: Job) => void;
  outputSpec?: OutputSpec;
}

export interface Rendered {
  status: Status;
  completedAt?: number;
  startedAt?: number;
}

/** The status at `now`, settling the job (once) when it has just finished. */
export function stateAt(job: Job, now: number): Rendered {
  if (job.canceledAt !== undefined && job.canceledAt < job.endAt) {
    return { status: "canceled", completedAt: job.canceledAt, ...(job.canceledAt >= job.startAt ? { startedAt: job.startAt } : {}) };
  }
  if (job.deadline !== undefined && now >= job.deadline && job.deadline < job.endAt) {
    // Cancel-After: before start → aborted (not billed), while running → canceled (2.2).
    if (job.deadline < job.startAt) return { status: "aborted", completedAt: job.deadline };
    return { status: "canceled", startedAt: job.startAt, completedAt: job.deadline };
  }
  if (now < job.startAt) return { status: "starting" };
  if (job.outcome.status === "aborted" && now >= job.startAt) {
    // Deadline passed while queued: never started, not billed (changelog 2025-10-16).
    return { status: "aborted", completedAt: job.startAt };
  }
  if (now < job.endAt) return { status: "processing", startedAt: job.startAt };
  if (!job.settled) {
    job.settled = true;
    if (job.outcome.status === "succeeded") job.onSuccess?.(job);
  }
  return { status: job.outcome.status, startedAt: job.startAt, completedAt: job.endAt };
}

export function isTerminal(status: Status): boolean {
  return status !== "starting" && status !== "processing";
}

function progressAt(job: Job, now: number, state: Rendered): number {
  if (state.status === "starting") return -1;
  if (state.status === "processing") return (now - job.startAt) / Math.max(1, job.endAt - job.startAt);
  if (state.status === "aborted") return -1;
  const end = state.completedAt ?? job.endAt;
  return Math.min(1, (end - job.startAt) / Math.max(1, job.endAt - job.startAt));
}

/** The JSON Replicate returns for this job at `now` (spec schemas_prediction_response / _training_response). */
export function render(job: Job, now: number, baseUrl: string, retentionMs: number): Record<string, unknown> {
  const state = stateAt(job, now);
  const fraction = progressAt(job, now, state);
  const removed = state.completedAt !== undefined && now >= state.completedAt + retentionMs;
  const collection = job.kind === "prediction" ? "predictions" : "trainings";
  const body: Record<string, unknown> = {
    id: job.id,
    model: job.model,
    version: job.version,
    input: removed ? {} : job.input,
    logs: removed || fraction < 0 ? "" : job.logLines(fraction).join("\n") + "\n",
    error: state.status === "failed" && job.outcome.status === "failed" ? job.outcome.error : null,
    status: state.status,
    source: "api",
    created_at: timestamp(job.createdAt),
    urls: {
      web: `https://replicate.com/p/${job.id}`,
      get: `${baseUrl}/${collection}/${job.id}`,
      cancel: `${baseUrl}/${collection}/${job.id}/cancel`,
    },
  };
  if (state.startedAt !== undefined) body.started_at = timestamp(state.startedAt);
  if (state.completedAt !== undefined) {
    body.completed_at = timestamp(state.completedAt);
    const predict = state.startedAt !== undefined ? (state.completedAt - state.startedAt) / 1000 : 0;
    body.metrics = { predict_time: predict, total_time: (state.completedAt - job.createdAt) / 1000 };
  }
  if (job.deadline !== undefined) body.deadline = timestamp(job.deadline);
  if (job.kind === "prediction") {
    body.output = state.status === "succeeded" && !removed ? (job.output ?? null) : null;
    body.data_removed = removed;
  } else if (state.status === "succeeded" && job.output) {
    // The spec types training output as an object (not nullable), so it is left out until success.
    body.output = job.output;
  }
  return body;
}

/** tqdm-style progress line, as cog-flux and the trainer print them. */
export function tqdm(prefix: string, current: number, total: number, elapsedS: number): string {
  const pct = Math.floor((current / total) * 100);
  const filled = Math.floor((current / total) * 10);
  const bar = "█".repeat(filled).padEnd(10, " ");
  const rate = elapsedS > 0 ? current / elapsedS : 0;
  const left = rate > 0 ? (total - current) / rate : 0;
  const mmss = (s: number) => `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
  return `${prefix}${String(pct).padStart(3, " ")}%|${bar}| ${current}/${total} [${mmss(elapsedS)}<${mmss(left)}, ${rate.toFixed(2)}it/s]`;
}

export function predictionLogs(seed: number, steps: number): (fraction: number) => string[] {
  return (fraction) => {
    const lines = [`Using seed: ${seed}`, "Running model..."];
    const done = Math.floor(Math.min(1, fraction) * steps);
    for (let i = 0; i <= done; i += Math.max(1, Math.floor(steps / 7))) lines.push(tqdm("", i, steps, i * 0.11));
    if (fraction >= 1) lines.push(tqdm("", steps, steps, steps * 0.11), "Total safe images: 1 out of 1");
    return lines;
  };
}

export function trainingLogs(steps: number): (fraction: number) => string[] {
  return (fraction) => {
    const lines = ["Extracting input_images...", "Preparing dataset", "Running job: flux_train_replicate"];
    const done = Math.floor(Math.min(1, fraction) * steps);
    const stride = Math.max(1, Math.floor(steps / 20));
    for (let i = 0; i <= done; i += stride) lines.push(tqdm("flux_train_replicate: ", i, steps, i * 0.9));
    if (fraction >= 1) lines.push(tqdm("flux_train_replicate: ", steps, steps, steps * 0.9), "Saved to output/flux_train_replicate/lora.safetensors");
    return lines;
  };
}

/** `Cancel-After: 30s | 5m | 1h30m | 45` (bare number: seconds), minimum 5 s (changelog 2025-10-16). */
export function parseCancelAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.max(5, Number(v)) * 1000;
  const m = v.match(/^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/);
  if (!m || !v) return undefined;
  const s = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return Math.max(5, s) * 1000;
}
