/**
 * Renders TrainEvents through the Reporter: a live bar on a TTY, throttled lines in CI and pipes
 * (the Reporter decides), NDJSON `train.*` events with --json. New checkpoints and sample images
 * are printed as they land so the user can open them while training continues.
 */
import type { ProgressHandle, Reporter } from "../reporter.js";
import { formatDuration } from "../../training/ai-toolkit/progress.js";
import type { TrainEvent } from "../../training/types.js";

const BAR_WIDTH = 20;

export function textBar(step: number, total: number): string {
  const filled = total > 0 ? Math.min(BAR_WIDTH, Math.round((step / total) * BAR_WIDTH)) : 0;
  return `${"█".repeat(filled)}${"░".repeat(BAR_WIDTH - filled)}`;
}

export function progressText(name: string, e: Extract<TrainEvent, { type: "progress" }>): string {
  const parts = [`training ${name} ${textBar(e.step, e.total)} ${e.step}/${e.total} (${e.percent}%)`];
  if (e.loss !== undefined) parts.push(`loss ${e.loss.toFixed(3)}`);
  if (e.secondsPerStep !== undefined) parts.push(e.secondsPerStep >= 1 ? `${e.secondsPerStep.toFixed(2)} s/step` : `${(1 / e.secondsPerStep).toFixed(2)} steps/s`);
  if (e.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(e.etaSeconds)}`);
  return parts.join("  ");
}

/** The `--json` line of a trainer event (`train` and `batch` print the same ones); `log` has none. */
export function trainerEventJson(name: string, event: TrainEvent): { type: string; data: Record<string, unknown> } | undefined {
  switch (event.type) {
    case "progress": {
      const { type: _type, ...data } = event;
      return { type: "train.progress", data: { name, ...data } };
    }
    case "checkpoint":
    case "sample":
      return { type: `train.${event.type}`, data: { name, step: event.step, path: event.path } };
    case "phase":
      return { type: "train.phase", data: { name, phase: event.phase, message: event.message } };
    case "start":
      return { type: "train.start", data: { name, command: event.command, ...(event.resumeFromStep !== undefined ? { resumeFromStep: event.resumeFromStep } : {}) } };
    case "log":
      return undefined;
  }
}

export class TrainProgressView {
  private bar: ProgressHandle | undefined;
  private lastProgress: Extract<TrainEvent, { type: "progress" }> | undefined;

  constructor(
    private readonly reporter: Reporter,
    private readonly name: string,
  ) {}

  private lastPhase = "";

  private say(message: string): void {
    // A line printed under a live spinner would be overwritten: stop it, print, let the next update
    // restart it. Plain (CI) progress lines keep their handle so the throttle is not reset.
    if (this.reporter.interactive) {
      this.bar?.stop();
      this.bar = undefined;
    }
    this.reporter.info(message);
  }

  handle = (event: TrainEvent): void => {
    const r = this.reporter;
    const json = trainerEventJson(this.name, event);
    if (json) r.event(json.type, json.data);
    switch (event.type) {
      case "progress": {
        this.lastProgress = event;
        if (r.json) return;
        const text = progressText(this.name, event);
        if (!this.bar) this.bar = r.progress(text);
        else this.bar.update(text);
        return;
      }
      case "checkpoint":
        if (event.step >= 0) this.say(`${r.style("dim", "checkpoint")} step ${event.step}: ${event.path}`);
        return;
      case "sample":
        this.say(`${r.style("cyan", "sample")} step ${event.step}: ${event.path}`);
        return;
      case "phase":
        // Latent caching repeats once per resolution with the same text.
        if (!r.json && event.message !== this.lastPhase) this.say(`${r.style("dim", "·")} ${event.message}`);
        this.lastPhase = event.message;
        return;
      case "start":
        r.debug(`$ ${event.command.join(" ")}`);
        return;
      case "log":
        r.debug(event.line);
        return;
    }
  };

  finish(ok: boolean, message: string): void {
    if (this.bar) {
      if (ok) this.bar.succeed(message);
      else this.bar.fail(message);
      this.bar = undefined;
    } else if (ok) this.reporter.success(message);
  }

  get last(): Extract<TrainEvent, { type: "progress" }> | undefined {
    return this.lastProgress;
  }
}
