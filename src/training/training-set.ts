/**
 * `train`'s training set: the selfies checked (a rejected set refused unless --force), then the
 * prepared dataset, or the one an unfinished training started with (same inputs, else refused).
 */
import { createHash } from "node:crypto";
import { SelfiesRejectedError, UsageError } from "../errors.js";
import type { IdentityPaths } from "../identity/paths.js";
import type { CheckReport } from "../selfies/types.js";
import type { UseCaseIo } from "../use-case.js";
import { exists } from "../util/fs.js";
import type { TrainPlan } from "./plan.js";
import { stateMismatches, writeTrainingState, type TrainingState } from "./state.js";
import type { TrainRequest, TrainUseCaseEvent } from "./train-request.js";

/** sha256 over the checked selfies' names and content hashes: did the selfie set change? */
export function sourceHash(report: CheckReport): string {
  const hash = createHash("sha256");
  for (const image of [...report.images].sort((a, b) => a.file.localeCompare(b.file))) hash.update(`${image.file}\0${image.sha256}\n`);
  return hash.digest("hex");
}

/** Checks the selfies (always: training starts from a checked, prepared set); refuses a rejected set. */
export async function checkTrainingSelfies(req: TrainRequest, io: UseCaseIo<TrainUseCaseEvent>, home: string): Promise<CheckReport> {
  const selfies = await import("../selfies/index.js");
  io.onEvent({ type: "selfies.checking", dir: req.selfiesDir });
  let report: CheckReport;
  try {
    report = await selfies.runCheck(req.selfiesDir, { home, signal: io.signal });
  } catch (error) {
    io.onEvent({ type: "selfies.checked", ok: false });
    throw error;
  }
  const { set } = report;
  io.onEvent({ type: "selfies.checked", ok: true, usable: set.usable, total: set.total, verdict: set.verdict });
  if (req.backend === "replicate") {
    // Nothing needs faces while a remote training runs for 20 minutes: free the model workers
    // (hundreds of MB), which also lets the process exit once done (their piped stdio keeps
    // the event loop alive even when unref'd).
    await (await import("../selfies/faces.js")).closeFaceModel();
  }
  if (set.verdict === "reject" && (!req.force || set.usable === 0)) {
    throw new SelfiesRejectedError(`the selfie set in ${req.selfiesDir} is not good enough to train on`, {
      code: "E_SELFIES_REJECTED",
      details: set.advice,
      hint:
        set.usable === 0
          ? `not one photo is usable; see \`headshot check ${req.selfiesDir}\` for what is wrong with each`
          : `see \`headshot check ${req.selfiesDir}\` for each photo; fix the set, or pass --force to train on the ${set.usable} usable photos anyway`,
    });
  }
  if (set.verdict !== "ok") for (const advice of set.advice) io.onEvent({ type: "train.warning", message: advice });
  return report;
}

/** The prepared training set: the one an unfinished training started with, or a new one. */
export async function datasetFor(
  req: TrainRequest,
  io: UseCaseIo<TrainUseCaseEvent>,
  p: { name: string; paths: IdentityPaths; base: TrainPlan },
  report: CheckReport,
  state: TrainingState | undefined,
): Promise<{ datasetDir: string; training: TrainingState }> {
  const base = p.base;
  const current = {
    backend: req.backend,
    recipe: base.recipe.id,
    rank: base.rank,
    trigger: base.trigger,
    classWord: base.classWord,
    resolutions: base.resolutions,
    sourceHash: sourceHash(report),
  };
  if (state && (await exists(state.datasetDir))) {
    const mismatches = stateMismatches(state, current);
    if (mismatches.length > 0) {
      throw new UsageError(`a training of "${p.name}" was started ${state.startedAt} with different inputs`, {
        code: "E_TRAIN_RESUME_MISMATCH",
        details: mismatches,
        hint: "re-run with the original options to resume it, or add --restart to discard it and start over",
      });
    }
    io.onEvent({ type: "train.resuming", name: p.name, startedAt: state.startedAt });
    return { datasetDir: state.datasetDir, training: state };
  }
  const selfies = await import("../selfies/index.js");
  io.onEvent({ type: "dataset.preparing" });
  // --force: prepare refuses a rejected set, so hand it the usable photos as a "warn" set.
  const toPrepare = report.set.verdict === "reject" ? { ...report, set: { ...report.set, verdict: "warn" as const } } : report;
  const prepared = await selfies.prepareTrainingSet(toPrepare, p.paths.datasetDir, { trigger: base.trigger, classWord: base.classWord, signal: io.signal });
  io.onEvent({ type: "dataset.prepared", images: prepared.images.length, dir: prepared.dir });
  const training: TrainingState = {
    ...current,
    sourceDir: req.selfiesDir,
    datasetDir: prepared.dir,
    datasetHash: prepared.datasetHash,
    datasetImages: prepared.images.length,
    startedAt: io.now().toISOString(),
  };
  await writeTrainingState(p.paths.trainingDir, training);
  return { datasetDir: prepared.dir, training };
}
