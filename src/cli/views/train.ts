/**
 * How `train` shows itself: the use case's events (src/training/train.ts) as reporter lines,
 * spinners and `--json` events, and the `--dry-run` description.
 */
import type { ProgressHandle, Reporter } from "../reporter.js";
import type { TrainOutcome, TrainRequest, TrainUseCaseEvent } from "../../training/train.js";
import { commandLine } from "../../util/shell-quote.js";
import { TrainProgressView, trainerEventJson } from "./train-progress.js";

/** The `--json` line `batch` prints for an event of a person's training. */
export function trainEventJson(event: TrainUseCaseEvent): { type: string; data: Record<string, unknown> } | undefined {
  switch (event.type) {
    case "trainer":
      return trainerEventJson(event.name, event.event);
    case "selfies.checked":
      return { type: "train.selfies", data: event.ok ? { usable: event.usable, total: event.total, verdict: event.verdict } : { failed: true } };
    case "dataset.prepared":
      return { type: "train.dataset", data: { images: event.images, dir: event.dir } };
    case "train.warning":
      return { type: "train.warning", data: { message: event.message } };
    default:
      return undefined;
  }
}

export class TrainView {
  private step: ProgressHandle | undefined;
  private progress: TrainProgressView | undefined;

  constructor(private readonly reporter: Reporter) {}

  handle = (event: TrainUseCaseEvent): void => {
    const r = this.reporter;
    switch (event.type) {
      case "train.already-trained": {
        const id = event.identity;
        r.success(`identity ${id.name} is already trained (${id.recipe}, ${id.training.steps} steps): ${id.lora.path}`);
        r.info(`  nothing to do; to train again: headshot identities rm ${id.name}`);
        return;
      }
      case "train.preflight":
        for (const check of event.checks) r.debug(`${check.ok ? "ok " : "NO "} ${check.id}: ${check.detail}`);
        return;
      case "train.restarted":
        return r.info(`--restart: removed the previous training and dataset of ${event.name}`);
      case "selfies.checking":
        this.step = r.progress(`checking selfies in ${event.dir}`);
        return;
      case "selfies.checked":
        if (event.ok) this.step?.succeed(`selfies: ${event.usable} of ${event.total} usable (${event.verdict})`);
        else this.step?.fail("selfie check failed");
        this.step = undefined;
        return;
      case "train.warning":
        return r.warn(event.message);
      case "train.resuming":
        return r.info(`resuming the training of ${event.name} started ${event.startedAt}`);
      case "dataset.preparing":
        this.step = r.progress("preparing the training set");
        return;
      case "dataset.prepared":
        this.step?.succeed(`training set: ${event.images} images in ${event.dir}`);
        this.step = undefined;
        return;
      default:
        return this.training(event);
    }
  };

  private training(event: TrainUseCaseEvent): void {
    const r = this.reporter;
    switch (event.type) {
      case "train.starting": {
        const plan = event.plan;
        if (event.rehearsal) r.info(`rehearsal ${event.name}: --backend test trains nothing; it registers your prepared selfies for free previews`);
        else r.info(`training ${event.name}: ${plan.recipe.label}, ${plan.steps} steps, rank ${plan.rank}, lr ${plan.lr}, trigger "${plan.trigger}" (${plan.memoryReason})`);
        this.progress = new TrainProgressView(r, event.name);
        return;
      }
      case "trainer":
        this.progress?.handle(event.event);
        return;
      case "train.ended": {
        const at = this.progress?.last;
        const name = event.name;
        if (!event.ok) this.progress?.finish(false, `training ${name} stopped${at ? ` at step ${at.step}/${at.total}` : ""}`);
        else this.progress?.finish(true, event.rehearsal ? `rehearsal identity ${name} ready (no LoRA)` : event.alreadyFinished ? `training ${name} had already finished` : `trained ${name} (${event.step} steps)`);
        return;
      }
      case "train.remote": {
        const remote = event.remote;
        if (remote.billedUsd !== undefined) r.info(`billed by Replicate: ${remote.billedSeconds} s of H100 time ≈ $${remote.billedUsd.toFixed(2)}`);
        r.info(`trained version on Replicate: ${remote.version}`);
        if (remote.weightsExpired) {
          r.warn(`no local copy of the LoRA: the weights of training ${remote.trainingId} are no longer downloadable from Replicate`);
          r.warn(`the identity is registered with its Replicate version only: generate with --backend replicate (local generation needs a LoRA file)`);
        }
        return;
      }
      case "identity.registered":
        r.success(`identity ${event.name} registered: ${event.file}`);
        r.result(`${event.name}\t${event.lora || "(rehearsal: no LoRA)"}`);
        return;
      case "identity.rehearsal":
        return r.warn(
          `"${event.name}" is a REHEARSAL identity: no LoRA was trained. Use it with \`headshot gen --identity ${event.name} --backend test\` to preview the workflow from your selfies; real backends refuse it.`,
        );
      default:
        return;
    }
  }
}

/** `train --dry-run`: the exact files and command, then notes; one summary line in --json. */
export function renderTrainDryRun(r: Reporter, req: Pick<TrainRequest, "name" | "backend">, outcome: TrainOutcome): void {
  const description = outcome.description;
  const notes = outcome.notes ?? [];
  if (!description) return;
  if (r.json) {
    r.summary({ dryRun: true, name: req.name, backend: req.backend, ...description.json, notes });
    return;
  }
  for (const file of description.files) r.result(`# ${file.path}\n${file.text}`);
  if (description.command) r.result(`# command\n${commandLine(description.command)}`);
  for (const note of notes) r.info(`${r.style("dim", "note")} ${note}`);
}

/** The `--json` summary of a finished (or already finished) training. */
export function renderTrainSummary(r: Reporter, req: Pick<TrainRequest, "name" | "backend">, outcome: TrainOutcome): void {
  const id = outcome.identity;
  r.summary({
    name: req.name,
    backend: req.backend,
    alreadyTrained: outcome.alreadyTrained,
    ...(id ? { lora: id.lora.path, sha256: id.lora.sha256, trigger: id.trigger, recipe: id.recipe, steps: id.training.steps } : {}),
    ...(id?.replicate ? { replicate: id.replicate } : {}),
  });
}
