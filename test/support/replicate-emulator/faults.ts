/**
 * Fault injection, configurable at runtime through `emulator.faults` (https://replicate.com/docs/reference/http).
 * Fractions are probabilities in [0, 1], drawn from the emulator's seeded PRNG.
 */

export interface Faults {
  /** Paid creates (predictions, trainings) answered 429 before anything is created. */
  throttleCreates: number;
  /** Deterministic variants for tests: the next N paid creates / API GETs / paid creates. */
  throttleNextCreates: number;
  failNextGets: number;
  dropNextCreates: number;
  /** The next N paid creates are committed, then never answered (the client's timeout fires). */
  hangNextCreates: number;
  /** Any other API request answered 429. */
  throttleOthers: number;
  /** Retry-After header in seconds on 429s; null sends none (only the "resets in ~Ns" text). */
  retryAfterSeconds: number | null;
  /** The N in "Your rate limit resets in ~Ns." */
  resetsInSeconds: number;
  /** API GETs answered with a 5xx (502/503/500 in turn). */
  failGets: number;
  /** Paid creates that create the object and then answer 500 (an ambiguous failure). */
  failCreatesAfterCommit: number;
  /** API requests whose socket is destroyed without an answer. */
  dropSockets: number;
  /** For dropped creates: "before" creating, "after" creating, or "mixed" (half each). */
  dropMode: "before" | "after" | "mixed";
  /** Output downloads answered 503. */
  failDownloads: number;
  /** POST /files answered 503 (the client's data-URI fallback trigger: 1.6). */
  failUploads: number;
  /** Creates answered 402 insufficient credit. */
  insufficientCredit: boolean;
  /** Return an error message to make the prediction fail with it. */
  failPrediction: ((input: Record<string, unknown>, model: string) => string | null) | null;
  /** Return true (all) or a number of images flagged by the safety checker. */
  nsfw: ((input: Record<string, unknown>, model: string) => boolean | number) | null;
  /** Return true to make the prediction end `aborted` (deadline passed before it started). */
  abortPrediction: ((input: Record<string, unknown>) => boolean) | null;
  /** Make trainings fail with this error. */
  trainingError: string | null;
}

export function defaultFaults(): Faults {
  return {
    throttleCreates: 0,
    throttleNextCreates: 0,
    failNextGets: 0,
    dropNextCreates: 0,
    hangNextCreates: 0,
    throttleOthers: 0,
    retryAfterSeconds: 1,
    resetsInSeconds: 1,
    failGets: 0,
    failCreatesAfterCommit: 0,
    dropSockets: 0,
    dropMode: "mixed",
    failDownloads: 0,
    failUploads: 0,
    insufficientCredit: false,
    failPrediction: null,
    nsfw: null,
    abortPrediction: null,
    trainingError: null,
  };
}
