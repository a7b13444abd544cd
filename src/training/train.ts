/**
 * The `headshot train` use case: selfies -> checked, prepared set -> plan -> backend -> registered
 * identity. Re-running the same command resumes an interrupted training and does nothing for a
 * finished one.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { identityPaths, testModeHome, validateIdentityName } from "../identity/paths.js";
import { findIdentity, saveIdentity, type Identity } from "../identity/registry.js";
import type { UseCaseIo } from "../use-case.js";
import { headshotCommand } from "../util/shell-quote.js";
import { identityRecord, markRehearsal } from "./identity-record.js";
import { buildTrainPlan, type TrainPlan } from "./plan.js";
import { acquireTrainingLock } from "./lock.js";
import { readTrainingState } from "./state.js";
import { createTrainer, preflightError } from "./trainers.js";
import type { TrainOutcome, TrainRequest, TrainUseCaseEvent } from "./train-request.js";
import { checkTrainingSelfies, datasetFor } from "./training-set.js";
import type { PreflightReport, Trainer } from "./types.js";

export type { TrainOutcome, TrainRequest, TrainUseCaseEvent } from "./train-request.js";
export { sourceHash } from "./training-set.js";

/** A rehearsal identity is labelled as one each time, and the caller told what it can and cannot do. */
async function labelRehearsal(req: TrainRequest, io: UseCaseIo<TrainUseCaseEvent>, home: string, identity: Identity): Promise<Identity> {
  if (!req.rehearsal) return identity;
  const marked = await markRehearsal(home, identity);
  io.onEvent({ type: "identity.rehearsal", name: identity.name });
  return marked;
}

/** A rehearsal lives in the test-mode registry: settings and environment point HEADSHOT_HOME there. */
function inRehearsalHome(req: TrainRequest): TrainRequest {
  if (!req.rehearsal) return req;
  const home = testModeHome(req.settings.home.value);
  return { ...req, settings: { ...req.settings, home: { value: home, source: "env", from: "HEADSHOT_HOME" } }, env: { ...req.env, HEADSHOT_HOME: home } };
}

export async function trainIdentity(request: TrainRequest, io: UseCaseIo<TrainUseCaseEvent>): Promise<TrainOutcome> {
  const req = inRehearsalHome(request);
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
      return { identity: await labelRehearsal(req, io, home, registered), alreadyTrained: true, dryRun: false };
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
  const report = await checkTrainingSelfies(req, io, p.home);
  const { datasetDir, training } = await datasetFor(req, io, { name, paths, base: planFor(req, p, undefined) }, report, state);
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
  return { identity: await labelRehearsal(req, io, p.home, identity), plan, alreadyTrained: result.alreadyFinished, dryRun: false };
}

/** The command that re-attaches to a remote training (printed on Ctrl-C). */
function resumeCommand(req: TrainRequest, name: string): string {
  const { options, replicate } = req;
  return headshotCommand(
    ["train", req.selfiesDir],
    [
      ["--name", name],
      ["--backend", req.backend],
      ["--model", options.recipe],
      ["--trainer", replicate?.trainer],
      ["--destination", replicate?.destination],
      ["--steps", options.steps],
      ["--rank", options.rank],
      ["--lr", options.lr],
      ["--trigger", options.trigger],
      ["--class", options.classWord],
      ["--resolution", options.resolutions?.join(",")],
      ["--force", req.force],
      ["--resume", true],
    ],
  );
}
