/**
 * The wire objects headshot reads, as the OpenAPI document describes them (https://replicate.com/docs/reference/http#predictions.get; https://replicate.com/docs/reference/http#trainings.create).
 * Only the fields we use are typed; everything else is kept as it came.
 */

export type RemoteStatus = "starting" | "processing" | "succeeded" | "failed" | "canceled" | "aborted";

/** `aborted` is terminal too: the client's wait() polls it forever (replicate/replicate-javascript index.js `wait`). */
export const TERMINAL_STATUSES: ReadonlySet<RemoteStatus> = new Set(["succeeded", "failed", "canceled", "aborted"]);

export function isTerminal(status: string): boolean {
  return TERMINAL_STATUSES.has(status as RemoteStatus);
}

export interface RemoteUrls {
  get: string;
  cancel: string;
  web?: string;
  stream?: string;
}

/** A prediction or a training: the fields the poller needs. */
export interface RemoteJob {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  status: RemoteStatus;
  error: string | null;
  logs?: string;
  created_at: string;
  started_at?: string | null;
  completed_at?: string | null;
  metrics?: { predict_time?: number; total_time?: number; [key: string]: unknown };
  urls: RemoteUrls;
}

export interface Prediction extends RemoteJob {
  /** A URL string, an array of them, or anything JSON for non-image models. */
  output: unknown;
  data_removed: boolean;
  deadline?: string;
}

export interface Training extends RemoteJob {
  output?: { version?: string; weights?: string } | null;
  destination?: string;
}

/** Paginated list answer (`GET /predictions`, `/trainings`, `/files`, ...). */
export interface Page<T> {
  next: string | null;
  previous?: string | null;
  results: T[];
}
