/**
 * Polling a prediction or training until it reaches a terminal status, and turning a
 * non-success into a typed error. Shared by predictions.ts and trainings.ts.
 *
 * Why our own loop (replicate/replicate-javascript index.js `run`; replicate/replicate-javascript index.js `wait`): the client's wait() has no timeout or backoff, polls
 * forever on `aborted`, and run() returns `null` output when a sync wait ends in `processing`.
 */
import { InterruptedError, JobFailedError, RemoteApiError } from "../errors.js";
import type { Redactor } from "./redact.js";
import type { Clock } from "./clock.js";
import { isTerminal, type RemoteJob } from "./types.js";

export interface PollOptions<T> {
  /** Ctrl-C: the job is cancelled on Replicate, then InterruptedError is thrown. */
  signal?: AbortSignal;
  /** First pause between polls. Default 1 s. */
  intervalMs?: number;
  /** The pause grows by `factor` up to this. Default 5 s (trainings: pass ~10 s). */
  maxIntervalMs?: number;
  factor?: number;
  /** Give up (and cancel remotely) after this long. Default 40 min (Replicate's own cap is 30). */
  timeoutMs?: number;
  /** Called with every new state (status or logs changed). */
  onUpdate?: (job: T) => void;
  /** Cancel the job on Replicate when interrupted or timed out. Default true. */
  cancelOnStop?: boolean;
}

export interface JobOps<T> {
  kind: "prediction" | "training";
  get(id: string, signal?: AbortSignal): Promise<T>;
  cancel(id: string): Promise<unknown>;
  clock: Clock;
}

export async function pollUntilTerminal<T extends RemoteJob>(initial: T, ops: JobOps<T>, options: PollOptions<T> = {}): Promise<T> {
  const { signal, onUpdate } = options;
  const factor = options.factor ?? 1.5;
  const maxInterval = options.maxIntervalMs ?? 5_000;
  let interval = Math.min(options.intervalMs ?? 1_000, maxInterval);
  const deadline = ops.clock.now() + (options.timeoutMs ?? 40 * 60_000);
  let job = initial;
  let lastSeen = `${job.status}:${job.logs?.length ?? 0}`;

  const stop = async (error: Error): Promise<never> => {
    if (options.cancelOnStop ?? true) await ops.cancel(job.id).catch(() => undefined);
    throw error;
  };

  while (!isTerminal(job.status)) {
    if (signal?.aborted) {
      return stop(new InterruptedError(`Interrupted; cancelled ${ops.kind} ${job.id} on Replicate.`));
    }
    const remaining = deadline - ops.clock.now();
    if (remaining <= 0) {
      return stop(
        new RemoteApiError(`The ${ops.kind} ${job.id} did not finish in time (last status: ${job.status}); it was cancelled.`, {
          code: "E_REPLICATE_POLL_TIMEOUT",
          hint: "Replicate may be busy (cold boot or queue): retry later.",
        }),
      );
    }
    try {
      await ops.clock.sleep(Math.min(interval, remaining), signal);
      job = await ops.get(job.id, signal);
    } catch (error) {
      if (signal?.aborted || error instanceof InterruptedError) {
        return stop(new InterruptedError(`Interrupted; cancelled ${ops.kind} ${job.id} on Replicate.`));
      }
      throw error;
    }
    interval = Math.min(maxInterval, Math.round(interval * factor));
    const seen = `${job.status}:${job.logs?.length ?? 0}`;
    if (seen !== lastSeen) {
      lastSeen = seen;
      onUpdate?.(job);
    }
  }
  return job;
}

/** The last `lines` non-empty lines of the logs, token-redacted. */
export function logsTail(logs: string | undefined | null, redact: Redactor, lines = 15): string[] {
  if (!logs) return [];
  // tqdm rewrites its line with \r: keep only the last state of each line.
  return logs
    .split("\n")
    .map((line) => line.split("\r").filter((part) => part.trim()).pop() ?? "")
    .filter((line) => line.trim())
    .slice(-lines)
    .map((line) => redact(line));
}

/** "NSFW" in the error is the safety checker (https://replicate.com/docs/reference/http#predictions.get); a different prompt or seed helps. */
export function isNsfwError(error: string | null | undefined): boolean {
  return !!error && /nsfw/i.test(error);
}

/** The typed error for a job that ended in anything but `succeeded`. */
export function jobFailure(job: RemoteJob, kind: "prediction" | "training", redact: Redactor): JobFailedError {
  const KIND = kind === "training" ? "TRAINING" : "PREDICTION";
  const tail = logsTail(job.logs, redact);
  const details = tail.length ? ["Last log lines:", ...tail.map((l) => `  ${l}`)] : [];
  const error = job.error ? redact(String(job.error)) : undefined;
  const where = job.urls?.web ? ` (${job.urls.web})` : "";
  switch (job.status) {
    case "canceled":
      return new JobFailedError(`The ${kind} ${job.id} was cancelled on Replicate${where}.`, {
        code: (`E_REPLICATE_${KIND}_CANCELED` as const),
        hint: "It was cancelled from the website, by a deadline, or by an interrupted headshot run: re-run to start again.",
        details,
      });
    case "aborted":
      return new JobFailedError(`The ${kind} ${job.id} was aborted before it started (its deadline passed)${where}.`, {
        code: (`E_REPLICATE_${KIND}_ABORTED` as const),
        hint: "Replicate was too busy to start it in time; aborted runs are not billed. Re-run later.",
        details,
      });
    default: {
      const nsfw = isNsfwError(error);
      return new JobFailedError(`The ${kind} ${job.id} failed on Replicate${where}: ${error ?? "no error message"}`, {
        code: nsfw ? "E_REPLICATE_NSFW" : (`E_REPLICATE_${KIND}_FAILED` as const),
        hint: nsfw
          ? "The safety checker rejected every image: change the prompt or seed and re-run."
          : kind === "training"
            ? "Read the log lines above; most trainer failures are bad input images or a bad zip."
            : "Read the error and log lines above; re-running with another seed often helps.",
        details,
      });
    }
  }
}
