/**
 * Turning a finished Replicate training into what `train` registers: the remote facts (version,
 * weights, billed time) and the typed error for one that did not succeed.
 */
import { stat } from "node:fs/promises";
import { JobFailedError } from "../../errors.js";
import { sha256File } from "../../util/hash-file.js";
import type { TrainPlan } from "../plan.js";
import type { RemoteTrainingInfo, TrainEvent, TrainResult } from "../types.js";
import { billedCost, trainerLabel } from "./options.js";
import type { RemoteTrainingState } from "./remote-state.js";

export async function localCopyOk(lora: { path: string; sha256: string }): Promise<boolean> {
  try {
    await stat(lora.path);
    return (await sha256File(lora.path)) === lora.sha256;
  } catch {
    return false;
  }
}

export function remoteInfo(state: RemoteTrainingState): RemoteTrainingInfo | undefined {
  if (!state.training || !state.output?.version) return undefined;
  const billed = billedCost(state.metrics?.predict_time);
  return {
    provider: "replicate",
    trainingId: state.training.id,
    version: state.output.version,
    ...(state.output.weights ? { weights: state.output.weights } : {}),
    trainer: trainerLabel(state.trainer),
    destination: state.destination,
    ...(state.training.web ? { web: state.training.web } : {}),
    ...(billed ? { billedSeconds: billed.seconds, billedUsd: billed.usd } : {}),
  };
}

export function remoteOnly(info: RemoteTrainingInfo, plan: TrainPlan, onEvent: (event: TrainEvent) => void, why: string): TrainResult {
  onEvent({ type: "phase", phase: "weights", message: `${why}; the trained version ${info.version} still runs on Replicate (headshot gen --backend replicate)` });
  return { loraPath: "", step: plan.steps, alreadyFinished: false, samples: [], remote: { ...info, weightsExpired: true } };
}

/** A failed/cancelled/aborted training: its error, the log tail, and that re-running pays again. */
export function paidFailure(error: JobFailedError, stateFile: string): JobFailedError {
  return new JobFailedError(error.message, {
    code: error.code,
    details: error.details,
    hint: `${error.hint ?? ""} Re-running the same command reports this again without paying; add --restart to start a new, paid training (state: ${stateFile}).`.trim(),
  });
}
