/**
 * The `headshot train` use case: selfies -> checked, prepared set -> plan -> backend -> registered
 * identity. Re-running the same command resumes an interrupted training and does nothing for a
 * finished one.
 */
import { createHash } from "node:crypto";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CommandContext } from "../cli/context.js";
import { SelfiesRejectedError, UsageError } from "../errors.js";
import { DESCRIPTOR_MODEL } from "../identity/calibration.js";
import { identityPaths, validateIdentityName } from "../identity/paths.js";
import { embeddingCentroid, findIdentity, saveIdentity, sha256File, type Identity } from "../identity/registry.js";
import type { CheckReport } from "../selfies/types.js";
import { buildTrainPlan, type TrainPlan, type TrainPlanInput } from "./plan.js";
import { TrainProgressView } from "./progress-view.js";
import { acquireTrainingLock } from "./lock.js";
import { readTrainingState, stateMismatches, writeTrainingState, type TrainingState } from "./state.js";
import { createTrainer, preflightError, type TrainBackend } from "./trainers.js";
import type { PreflightReport, Trainer } from "./types.js";

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
  aiToolkit?: string;
  /** `--backend replicate` flags. */
  replicate?: { trainer?: string; destination?: string; cancelOnInterrupt?: boolean };
}

export interface TrainOutcome {
  identity?: Identity;
  plan?: TrainPlan;
  alreadyTrained: boolean;
  dryRun: boolean;
}

/** sha256 over the checked selfies' names and content hashes: did the selfie set change? */
export function sourceHash(report: CheckReport): string {
  const hash = createHash("sha256");
  for (const image of [...report.images].sort((a, b) => a.file.localeCompare(b.file))) hash.update(`${image.file}\0${image.sha256}\n`);
  return hash.digest("hex");
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export async function trainIdentity(ctx: CommandContext, req: TrainRequest): Promise<TrainOutcome> {
  const r = ctx.reporter;
  const settings = await ctx.settings(req.aiToolkit !== undefined ? { aiToolkit: req.aiToolkit } : {});
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
      r.success(`identity ${name} is already trained (${registered.recipe}, ${registered.training.steps} steps): ${registered.lora.path}`);
      r.info(`  nothing to do; to train again: headshot identities rm ${name}`);
      return { identity: registered, alreadyTrained: true, dryRun: false };
    }
  }

  // The signal came from the terminal's Ctrl-C when we are interactive: the child got it too.
  const childSharesTerminal = ctx.deps.stdinIsTTY && Boolean(ctx.deps.stderr.isTTY);
  if (req.resume && req.restart) {
    throw new UsageError("--resume and --restart contradict each other", { code: "E_TRAIN_OPTIONS", hint: "--resume re-attaches to the current training; --restart discards it" });
  }
  const trainer = await createTrainer(req.backend, {
    settings,
    env: ctx.env,
    childSharesTerminal,
    replicate: {
      trainer: req.replicate?.trainer,
      destination: req.replicate?.destination,
      cancelOnInterrupt: Boolean(req.replicate?.cancelOnInterrupt),
      interactive: r.interactive,
      confirm: ctx.deps.confirm,
      resumeCommand: resumeCommand(req, name),
      now: () => ctx.now(),
    },
  });
  const preflight = await trainer.preflight({ ...(req.options.gpuIds !== undefined ? { gpuIds: req.options.gpuIds } : {}), signal: ctx.signal });
  for (const check of preflight.checks) r.debug(`${check.ok ? "ok " : "NO "} ${check.id}: ${check.detail}`);
  if (!preflight.ok && !req.dryRun) throw preflightError(req.backend, preflight);

  if (req.dryRun) return dryRun(ctx, req, { name, home, trainer, preflight });
  const release = await acquireTrainingLock(paths.trainingDir, name);
  try {
    return await trainLocked(ctx, req, { name, home, paths, trainer, preflight });
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

async function dryRun(ctx: CommandContext, req: TrainRequest, p: Prepared): Promise<TrainOutcome> {
  const r = ctx.reporter;
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
  if (r.json) {
    r.summary({ dryRun: true, name: p.name, backend: req.backend, ...description.json, notes });
  } else {
    for (const file of description.files) r.result(`# ${file.path}\n${file.text}`);
    if (description.command) r.result(`# command\n${description.command.map(shellQuote).join(" ")}`);
    for (const note of notes) r.info(`${r.style("dim", "note")} ${note}`);
  }
  return { plan, alreadyTrained: false, dryRun: true };
}

async function trainLocked(ctx: CommandContext, req: TrainRequest, p: Prepared & { paths: ReturnType<typeof identityPaths> }): Promise<TrainOutcome> {
  const r = ctx.reporter;
  const { name, home, paths, trainer } = p;
  if (req.restart) {
    // Everything but our own lock file goes.
    for (const entry of await readdir(paths.trainingDir)) {
      if (entry !== "headshot.lock") await rm(join(paths.trainingDir, entry), { recursive: true, force: true });
    }
    await rm(paths.datasetDir, { recursive: true, force: true });
    r.info(`--restart: removed the previous training and dataset of ${name}`);
  }
  const state = req.restart ? undefined : await readTrainingState(paths.trainingDir);
  if (req.resume && !state) {
    throw new UsageError(`there is no unfinished training of "${name}" to resume`, {
      code: "E_NOTHING_TO_RESUME",
      hint: "run the same command without --resume to start one",
    });
  }

  // Check the selfies (always: training starts from a checked, prepared set).
  const selfies = await import("../selfies/index.js");
  const checking = r.progress(`checking selfies in ${req.selfiesDir}`);
  let report: CheckReport;
  try {
    report = await selfies.runCheck(req.selfiesDir, { home, signal: ctx.signal });
  } catch (error) {
    checking.fail("selfie check failed");
    throw error;
  }
  const { set } = report;
  checking.succeed(`selfies: ${set.usable} of ${set.total} usable (${set.verdict})`);
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
  if (set.verdict !== "ok") for (const advice of set.advice) r.warn(advice);

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
  let datasetDir: string;
  let training: TrainingState;
  if (state && (await exists(state.datasetDir))) {
    const mismatches = stateMismatches(state, current);
    if (mismatches.length > 0) {
      throw new UsageError(`a training of "${name}" was started ${state.startedAt} with different inputs`, {
        code: "E_TRAIN_RESUME_MISMATCH",
        details: mismatches,
        hint: "re-run with the original options to resume it, or add --restart to discard it and start over",
      });
    }
    datasetDir = state.datasetDir;
    training = state;
    r.info(`resuming the training of ${name} started ${state.startedAt}`);
  } else {
    const preparing = r.progress("preparing the training set");
    // --force: prepare refuses a rejected set, so hand it the usable photos as a "warn" set.
    const toPrepare = set.verdict === "reject" ? { ...report, set: { ...set, verdict: "warn" as const } } : report;
    const prepared = await selfies.prepareTrainingSet(toPrepare, paths.datasetDir, { trigger: base.trigger, classWord: base.classWord, signal: ctx.signal });
    preparing.succeed(`training set: ${prepared.images.length} images in ${prepared.dir}`);
    datasetDir = prepared.dir;
    training = {
      ...current,
      sourceDir: req.selfiesDir,
      datasetDir,
      datasetHash: prepared.datasetHash,
      datasetImages: prepared.images.length,
      startedAt: ctx.now().toISOString(),
    };
    await writeTrainingState(paths.trainingDir, training);
  }

  const plan = planFor(req, p, datasetDir);
  for (const warning of plan.warnings) r.warn(warning);
  r.info(`training ${name}: ${plan.recipe.label}, ${plan.steps} steps, rank ${plan.rank}, lr ${plan.lr}, trigger "${plan.trigger}" (${plan.memoryReason})`);
  const view = new TrainProgressView(r, name);
  let result;
  try {
    result = await trainer.train(plan, { signal: ctx.signal, onEvent: view.handle });
  } catch (error) {
    const at = view.last;
    view.finish(false, `training ${name} stopped${at ? ` at step ${at.step}/${at.total}` : ""}`);
    throw error;
  }
  view.finish(true, result.alreadyFinished ? `training ${name} had already finished` : `trained ${name} (${result.step} steps)`);

  const remote = result.remote;
  if (remote?.billedUsd !== undefined) r.info(`billed by Replicate: ${remote.billedSeconds} s of H100 time ≈ $${remote.billedUsd.toFixed(2)}`);
  if (remote) r.info(`trained version on Replicate: ${remote.version}`);
  if (remote?.weightsExpired) {
    r.warn(`no local copy of the LoRA: the weights of training ${remote.trainingId} are no longer downloadable from Replicate`);
    r.warn(`the identity is registered with its Replicate version only: generate with --backend replicate (local generation needs a LoRA file)`);
  }
  const lora = result.loraPath ? { path: result.loraPath, sha256: await sha256File(result.loraPath), bytes: (await stat(result.loraPath)).size, step: result.step } : { path: "", sha256: "", bytes: 0, step: result.step };
  const embeddings = report.images.filter((i) => i.verdict !== "reject" && i.embedding).map((i) => i.embedding as number[]);
  const centroid = embeddingCentroid(embeddings);
  const identity: Identity = {
    schemaVersion: 1,
    name,
    trigger: plan.trigger,
    classWord: plan.classWord,
    backend: req.backend,
    baseModel: plan.recipe.model.name_or_path,
    recipe: plan.recipe.id,
    lora,
    ...(remote ? { replicate: remote } : {}),
    training: { steps: plan.steps, rank: plan.rank, lr: plan.lr, resolutions: plan.resolutions, outputDir: plan.paths.outputDir, samples: result.samples },
    dataset: { dir: datasetDir, hash: training.datasetHash, images: training.datasetImages, sourceDir: req.selfiesDir },
    selfies: {
      verdict: set.verdict,
      usable: set.usable,
      total: set.total,
      ...(set.selfSimilarity ? { selfSimilarity: set.selfSimilarity } : {}),
      ...(centroid ? { embedding: { model: DESCRIPTOR_MODEL, dims: centroid.length, count: embeddings.length, centroid } } : {}),
    },
    createdAt: ctx.now().toISOString(),
  };
  const file = await saveIdentity(home, identity);
  r.success(`identity ${name} registered: ${file}`);
  r.result(`${name}\t${result.loraPath || remote?.version || ""}`);
  return { identity, plan, alreadyTrained: result.alreadyFinished, dryRun: false };
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
  return parts.map(shellQuote).join(" ");
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}
