/**
 * The `headshot train` use case: selfies -> checked, prepared set -> plan -> backend -> registered
 * identity. Re-running the same command resumes an interrupted training and does nothing for a
 * finished one.
 */
import { createHash } from "node:crypto";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { SelfiesRejectedError, UsageError } from "../errors.js";
import { DESCRIPTOR_MODEL } from "../scoring/calibration.js";
import { identityPaths, validateIdentityName } from "../identity/paths.js";
import { embeddingCentroid, findIdentity, saveIdentity, sha256File, type Identity } from "../identity/registry.js";
import type { CheckReport } from "../selfies/types.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import type { UseCaseIo } from "../use-case.js";
import { exists } from "../util/fs.js";
import { commandLine } from "../util/shell-quote.js";
import { buildTrainPlan, type TrainPlan, type TrainPlanInput } from "./plan.js";
import { acquireTrainingLock } from "./lock.js";
import { readTrainingState, stateMismatches, writeTrainingState, type TrainingState } from "./state.js";
import { createTrainer, preflightError, type TrainBackend } from "./trainers.js";
import type { PreflightCheck, PreflightReport, RemoteTrainingInfo, TrainDescription, Trainer, TrainEvent } from "./types.js";

export interface TrainRequest {
  selfiesDir: string;
  name: string;
  backend: TrainBackend;
  options: Omit<TrainPlanInput, "name" | "home" | "selfiesDir" | "gpu" | "datasetDir">;
  force: boolean;
  dryRun: boolean;
  restart: boolean;
  /** Only re-attach to / continue an existing training; never start (or pay for) a new one. */
  resume?: boolean;
  /** `--backend replicate` flags. */
  replicate?: { trainer?: string; destination?: string; cancelOnInterrupt?: boolean };
  /** Resolved settings (HEADSHOT_HOME, ai-toolkit location, Replicate base URL). */
  settings: GlobalSettings;
  env: Env;
  /** The child process shares the terminal, so it got the Ctrl-C too (interactive runs). */
  childSharesTerminal: boolean;
}

/** What `train` tells its caller while it runs (the CLI prints them; batch shows progress). */
export type TrainUseCaseEvent =
  | { type: "train.already-trained"; identity: Identity }
  | { type: "train.preflight"; checks: PreflightCheck[] }
  | { type: "train.restarted"; name: string }
  | { type: "selfies.checking"; dir: string }
  | { type: "selfies.checked"; ok: true; usable: number; total: number; verdict: string }
  | { type: "selfies.checked"; ok: false }
  | { type: "train.warning"; message: string }
  | { type: "train.resuming"; name: string; startedAt: string }
  | { type: "dataset.preparing" }
  | { type: "dataset.prepared"; images: number; dir: string }
  /** `rehearsal`: `--backend test` trains nothing, it registers the prepared selfies (issue 15). */
  | { type: "train.starting"; name: string; plan: TrainPlan; rehearsal?: boolean }
  | { type: "trainer"; name: string; event: TrainEvent }
  | { type: "train.ended"; name: string; ok: boolean; alreadyFinished?: boolean; step?: number; rehearsal?: boolean }
  | { type: "train.remote"; remote: RemoteTrainingInfo }
  | { type: "identity.registered"; name: string; file: string; lora: string };

export interface TrainOutcome {
  identity?: Identity;
  plan?: TrainPlan;
  alreadyTrained: boolean;
  dryRun: boolean;
  /** --dry-run: the exact files and command, and notes on what a real run would do. */
  description?: TrainDescription;
  notes?: string[];
}

/** sha256 over the checked selfies' names and content hashes: did the selfie set change? */
export function sourceHash(report: CheckReport): string {
  const hash = createHash("sha256");
  for (const image of [...report.images].sort((a, b) => a.file.localeCompare(b.file))) hash.update(`${image.file}\0${image.sha256}\n`);
  return hash.digest("hex");
}

export async function trainIdentity(req: TrainRequest, io: UseCaseIo<TrainUseCaseEvent>): Promise<TrainOutcome> {
  const settings = req.settings;
  const home = settings.home.value;
  const name = validateIdentityName(req.name);
  const paths = identityPaths(home, name);

  const registered = await findIdentity(home, name);
  if (registered) {
    if (req.restart) {
      throw new UsageError(`identity "${name}" is already trained; --restart only applies to an unfinished training`, {
        code: "E_IDENTITY_EXISTS",
        hint: `remove it first (headshot identities rm ${name}) or pick another --name`,
      });
    }
    if (!req.dryRun) {
      io.onEvent({ type: "train.already-trained", identity: registered });
      return { identity: registered, alreadyTrained: true, dryRun: false };
    }
  }

  if (req.resume && req.restart) {
    throw new UsageError("--resume and --restart contradict each other", { code: "E_TRAIN_OPTIONS", hint: "--resume re-attaches to the current training; --restart discards it" });
  }
  const trainer = await createTrainer(req.backend, {
    settings,
    env: req.env,
    childSharesTerminal: req.childSharesTerminal,
    replicate: {
      trainer: req.replicate?.trainer,
      destination: req.replicate?.destination,
      cancelOnInterrupt: Boolean(req.replicate?.cancelOnInterrupt),
      interactive: io.confirm !== undefined,
      confirm: io.confirm,
      resumeCommand: resumeCommand(req, name),
      now: io.now,
    },
  });
  const preflight = await trainer.preflight({ ...(req.options.gpuIds !== undefined ? { gpuIds: req.options.gpuIds } : {}), signal: io.signal });
  io.onEvent({ type: "train.preflight", checks: preflight.checks });
  if (!preflight.ok && !req.dryRun) throw preflightError(req.backend, preflight);

  if (req.dryRun) return dryRun(req, { name, home, trainer, preflight });
  const release = await acquireTrainingLock(paths.trainingDir, name);
  try {
    return await trainLocked(req, io, { name, home, paths, trainer, preflight });
  } finally {
    await release();
  }
}

interface Prepared {
  name: string;
  home: string;
  trainer: Trainer;
  preflight: PreflightReport;
}

function planFor(req: TrainRequest, p: Prepared, datasetDir: string | undefined): TrainPlan {
  return buildTrainPlan({
    ...req.options,
    ...(req.backend === "replicate" ? { backend: "replicate" as const } : {}),
    name: p.name,
    home: p.home,
    selfiesDir: req.selfiesDir,
    ...(p.preflight.gpu ? { gpu: p.preflight.gpu } : {}),
    ...(datasetDir ? { datasetDir } : {}),
  });
}

async function dryRun(req: TrainRequest, p: Prepared): Promise<TrainOutcome> {
  const state = await readTrainingState(identityPaths(p.home, p.name).trainingDir);
  const plan = planFor(req, p, state?.datasetDir);
  const description = p.trainer.describe(plan);
  const notes = [
    ...p.preflight.checks.filter((c) => !c.ok).map((c) => `preflight: ${c.id}: ${c.detail}`),
    ...plan.warnings,
    `memory: ${plan.memoryReason}`,
    ...(state ? [`resumes the training started ${state.startedAt}`] : ["selfies are checked and prepared into the dataset folder when training starts"]),
    ...description.notes,
  ];
  return { plan, alreadyTrained: false, dryRun: true, description, notes };
}

type Locked = Prepared & { paths: ReturnType<typeof identityPaths> };

async function trainLocked(req: TrainRequest, io: UseCaseIo<TrainUseCaseEvent>, p: Locked): Promise<TrainOutcome> {
  const { name, paths } = p;
  if (req.restart) {
    // Everything but our own lock file goes.
    for (const entry of await readdir(paths.trainingDir)) {
      if (entry !== "headshot.lock") await rm(join(paths.trainingDir, entry), { recursive: true, force: true });
    }
    await rm(paths.datasetDir, { recursive: true, force: true });
    io.onEvent({ type: "train.restarted", name });
  }
  const state = req.restart ? undefined : await readTrainingState(paths.trainingDir);
  if (req.resume && !state) {
    throw new UsageError(`there is no unfinished training of "${name}" to resume`, {
      code: "E_NOTHING_TO_RESUME",
      hint: "run the same command without --resume to start one",
    });
  }
  const report = await checkSelfies(req, io, p.home);
  const { datasetDir, training } = await datasetFor(req, io, p, report, state);
  const plan = planFor(req, p, datasetDir);
  const rehearsal = req.backend === "test";
  if (!rehearsal) for (const warning of plan.warnings) io.onEvent({ type: "train.warning", message: warning });
  io.onEvent({ type: "train.starting", name, plan, ...(rehearsal ? { rehearsal } : {}) });
  let result;
  try {
    result = await p.trainer.train(plan, { signal: io.signal, onEvent: (event) => io.onEvent({ type: "trainer", name, event }) });
  } catch (error) {
    io.onEvent({ type: "train.ended", name, ok: false });
    throw error;
  }
  io.onEvent({ type: "train.ended", name, ok: true, alreadyFinished: result.alreadyFinished, step: result.step, ...(rehearsal ? { rehearsal } : {}) });
  if (result.remote) io.onEvent({ type: "train.remote", remote: result.remote });
  const identity = await identityRecord(req, io, { name, plan, result, report, datasetDir, training });
  const file = await saveIdentity(p.home, identity);
  // A rehearsal trains nothing: no LoRA path to print (the trainer's planned path does not exist).
  io.onEvent({ type: "identity.registered", name, file, lora: rehearsal ? "" : result.loraPath || result.remote?.version || "" });
  return { identity, plan, alreadyTrained: result.alreadyFinished, dryRun: false };
}

/** Checks the selfies (always: training starts from a checked, prepared set); refuses a rejected set. */
async function checkSelfies(req: TrainRequest, io: UseCaseIo<TrainUseCaseEvent>, home: string): Promise<CheckReport> {
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
async function datasetFor(
  req: TrainRequest,
  io: UseCaseIo<TrainUseCaseEvent>,
  p: Locked,
  report: CheckReport,
  state: TrainingState | undefined,
): Promise<{ datasetDir: string; training: TrainingState }> {
  const base = planFor(req, p, undefined);
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

interface Trained {
  name: string;
  plan: TrainPlan;
  result: Awaited<ReturnType<Trainer["train"]>>;
  report: CheckReport;
  datasetDir: string;
  training: TrainingState;
}

/** The registry entry of a finished training (written by the caller, last, so it means "usable"). */
async function identityRecord(req: TrainRequest, io: UseCaseIo<TrainUseCaseEvent>, t: Trained): Promise<Identity> {
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

/** The command that re-attaches to a remote training (printed on Ctrl-C). */
function resumeCommand(req: TrainRequest, name: string): string {
  const parts = ["headshot", "train", req.selfiesDir, "--name", name, "--backend", req.backend];
  if (req.options.recipe) parts.push("--model", req.options.recipe);
  if (req.replicate?.trainer) parts.push("--trainer", req.replicate.trainer);
  if (req.replicate?.destination) parts.push("--destination", req.replicate.destination);
  for (const [flag, value] of [["--steps", req.options.steps], ["--rank", req.options.rank], ["--lr", req.options.lr], ["--trigger", req.options.trigger], ["--class", req.options.classWord]] as const) {
    if (value !== undefined) parts.push(flag, String(value));
  }
  if (req.options.resolutions) parts.push("--resolution", req.options.resolutions.join(","));
  if (req.force) parts.push("--force");
  parts.push("--resume");
  return commandLine(parts);
}
