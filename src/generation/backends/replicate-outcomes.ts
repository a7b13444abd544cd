/**
 * How the Replicate generator (./replicate.ts) names a prediction and reads what went wrong: the
 * remote reference recorded in the manifest, and each error of the Replicate layer as a new attempt,
 * a re-attach, a failed image or the end of the batch.
 */
import { RemoteApiError, UsageError, isHeadshotError } from "../../errors.js";
import type { PredictionTarget } from "../../replicate/predictions.js";
import type { Prediction } from "../../replicate/types.js";
import { GenerationFailure, type RemoteRef } from "../generator.js";

/** Model-side errors worth a new attempt: infrastructure, not the input (https://replicate.com/docs/reference/http#predictions.get; https://replicate.com/docs/topics/predictions/lifecycle). */
export const TRANSIENT_ERROR = /out of memory|cuda|timed? ?out|timeout|internal|unavailable|connection|network|try again|interrupted|preempt|worker|director|setup failed|503|502/i;

export function modelRefOf(target: PredictionTarget): string {
  return "model" in target ? target.model : target.version;
}

export function remoteOf(prediction: Prediction, target: PredictionTarget): RemoteRef {
  return {
    id: prediction.id,
    modelRef: modelRefOf(target),
    ...(prediction.version && prediction.version !== "hidden" ? { version: prediction.version } : {}),
    ...(prediction.urls?.web ? { webUrl: prediction.urls.web } : {}),
  };
}

/** Classifies an error thrown by the Replicate layer while creating or polling. */
export function classifyApiError(error: unknown, remote: RemoteRef | undefined): GenerationFailure {
  if (error instanceof GenerationFailure) return error;
  if (error instanceof UsageError) return new GenerationFailure("fatal", error.message, { code: error.code, cause: error, remote });
  if (error instanceof RemoteApiError) {
    const status = error.status;
    // Token, credit, unknown model/version, invalid input: every other image would fail the same way.
    if (status === 401 || status === 402 || status === 403 || status === 404 || status === 422 || status === 413) {
      if (remote && status === 404) {
        // Our own prediction vanished (deleted, or another account's token): make a new one.
        return new GenerationFailure("transient", error.message, { code: error.code, cause: error });
      }
      return new GenerationFailure("fatal", error.message, { code: error.code, cause: error, remote });
    }
    // 429 after the layer's backoff, 5xx, network: the prediction (if any) may still be fine.
    return new GenerationFailure(remote ? "reattach" : "transient", error.message, { code: error.code, cause: error, remote });
  }
  if (isHeadshotError(error)) return new GenerationFailure("failed", error.message, { code: error.code, cause: error, remote });
  throw error;
}
