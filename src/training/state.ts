/**
 * `<identity>/training/state.json`: what a started training was started with, so that re-running
 * the same command resumes it (ai-toolkit continues from its newest checkpoint by itself,
 * ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py) and a changed selfie set or changed options never silently resume
 * into a different training.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic-write.js";

export interface TrainingState {
  backend: string;
  recipe: string;
  rank: number;
  trigger: string;
  classWord: string;
  resolutions: number[];
  /** sha256 over the checked selfies (file names and content hashes). */
  sourceHash: string;
  sourceDir: string;
  datasetDir: string;
  datasetHash: string;
  datasetImages: number;
  startedAt: string;
}

export function statePath(trainingDir: string): string {
  return join(trainingDir, "state.json");
}

export async function readTrainingState(trainingDir: string): Promise<TrainingState | undefined> {
  try {
    return JSON.parse(await readFile(statePath(trainingDir), "utf8")) as TrainingState;
  } catch {
    return undefined;
  }
}

export async function writeTrainingState(trainingDir: string, state: TrainingState): Promise<void> {
  await writeJsonAtomic(statePath(trainingDir), state);
}

/** Options that cannot change in the middle of a training (the checkpoint's shape or captions depend on them). */
export function stateMismatches(state: TrainingState, now: Omit<TrainingState, "sourceDir" | "datasetDir" | "datasetHash" | "datasetImages" | "startedAt">): string[] {
  const out: string[] = [];
  if (state.backend !== now.backend) out.push(`--backend was ${state.backend}, now ${now.backend}`);
  if (state.recipe !== now.recipe) out.push(`--model was ${state.recipe}, now ${now.recipe}`);
  if (state.rank !== now.rank) out.push(`--rank was ${state.rank}, now ${now.rank}`);
  if (state.trigger !== now.trigger) out.push(`--trigger was ${state.trigger}, now ${now.trigger}`);
  if (state.classWord !== now.classWord) out.push(`--class was ${state.classWord}, now ${now.classWord}`);
  if (state.resolutions.join(",") !== now.resolutions.join(",")) out.push(`--resolution was ${state.resolutions.join(",")}, now ${now.resolutions.join(",")}`);
  if (state.sourceHash !== now.sourceHash) out.push("the selfies changed (files added, removed or edited)");
  return out;
}
