/** The registry entry of a finished training, and the rehearsal label of a `--backend test` one. */
import { stat } from "node:fs/promises";
import { embeddingCentroid, saveIdentity, type Identity } from "../identity/registry.js";
import { sha256File } from "../util/hash-file.js";
import { DESCRIPTOR_MODEL } from "../scoring/calibration.js";
import type { CheckReport } from "../selfies/types.js";
import type { UseCaseIo } from "../use-case.js";
import type { TrainPlan } from "./plan.js";
import type { TrainingState } from "./state.js";
import type { TrainRequest, TrainUseCaseEvent } from "./train-request.js";
import type { Trainer } from "./types.js";

export interface Trained {
  name: string;
  plan: TrainPlan;
  result: Awaited<ReturnType<Trainer["train"]>>;
  report: CheckReport;
  datasetDir: string;
  training: TrainingState;
}

/** The registry entry of a finished training (written by the caller, last, so it means "usable"). */
export async function identityRecord(req: TrainRequest, io: UseCaseIo<TrainUseCaseEvent>, t: Trained): Promise<Identity> {
  const { plan, result, report } = t;
  const set = report.set;
  const remote = result.remote;
  const lora = result.loraPath ? { path: result.loraPath, sha256: await sha256File(result.loraPath), bytes: (await stat(result.loraPath)).size, step: result.step } : { path: "", sha256: "", bytes: 0, step: result.step };
  const embeddings = report.images.filter((i) => i.verdict !== "reject" && i.embedding).map((i) => i.embedding as number[]);
  const centroid = embeddingCentroid(embeddings);
  return {
    schemaVersion: 1,
    name: t.name,
    trigger: plan.trigger,
    classWord: plan.classWord,
    backend: req.backend,
    baseModel: plan.recipe.model.name_or_path,
    recipe: plan.recipe.id,
    lora,
    ...(remote ? { replicate: remote } : {}),
    training: { steps: plan.steps, rank: plan.rank, lr: plan.lr, resolutions: plan.resolutions, outputDir: plan.paths.outputDir, samples: result.samples },
    dataset: { dir: t.datasetDir, hash: t.training.datasetHash, images: t.training.datasetImages, sourceDir: req.selfiesDir },
    selfies: {
      verdict: set.verdict,
      usable: set.usable,
      total: set.total,
      ...(set.selfSimilarity ? { selfSimilarity: set.selfSimilarity } : {}),
      ...(centroid ? { embedding: { model: DESCRIPTOR_MODEL, dims: centroid.length, count: embeddings.length, centroid } } : {}),
    },
    createdAt: io.now().toISOString(),
  };
}

/** Records the identity as a rehearsal (no LoRA; usable with `gen --backend test` only). */
export async function markRehearsal(home: string, identity: Identity): Promise<Identity> {
  const marked: Identity = { ...identity, placeholder: true, rehearsal: true };
  await saveIdentity(home, marked);
  return marked;
}
