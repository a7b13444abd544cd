/**
 * How a batch shows itself. `--json`: every event is one NDJSON line (`person`, `preset` fields
 * say whose it is). Humans: one progress line per person: redrawn in place on a terminal, printed
 * when it changes (at most every few seconds for progress) in CI logs.
 */
import type { Reporter } from "../reporter.js";
import { formatUsd } from "./format.js";
import { trainEventJson } from "./train.js";
import type { BatchEvent } from "../../batch/events.js";
import type { BatchResult } from "../../batch/run-batch.js";

export type { BatchEvent } from "../../batch/events.js";

const PLAIN_INTERVAL_MS = 5_000;

export class BatchView {
  private readonly lines = new Map<string, string>();
  private readonly lastPrinted = new Map<string, number>();
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** People in the order they started (the file's order: each starts before any awaits). */
  private readonly order: string[] = [];

  constructor(private readonly reporter: Reporter) {}

  emit = (event: BatchEvent): void => {
    if (this.closed) return;
    if (event.type === "person.start") this.order.push(event.person);
    const r = this.reporter;
    if (r.json) {
      const { type, ...data } = event;
      if (event.type === "gen.event") {
        const { type: inner, ...rest } = event.event;
        r.event(inner === "progress" ? "gen.progress" : inner.startsWith("image.") || inner.startsWith("batch.") ? `gen.${inner}` : `gen.${inner}`, { person: event.person, preset: event.preset, ...rest });
      } else if (event.type === "polish.event") {
        const { type: inner, ...rest } = event.event;
        r.event(inner, { person: event.person, preset: event.preset, ...rest });
      } else if (event.type === "train.event") {
        const json = trainEventJson(event.event);
        if (json) r.event(json.type, { person: event.person, ...json.data });
      } else {
        r.event(type, data);
      }
      return;
    }
    const line = this.describe(event);
    if (!line) return;
    const [person, text, urgent] = line;
    this.lines.set(person, text);
    if (r.interactive) this.schedule();
    else {
      const now = Date.now();
      if (urgent || now - (this.lastPrinted.get(person) ?? 0) >= PLAIN_INTERVAL_MS) {
        this.lastPrinted.set(person, now);
        r.info(`${person}: ${text}`);
      }
    }
  };

  /** Person, status text, and whether it must be printed at once (a phase change). */
  private describe(event: BatchEvent): [string, string, boolean] | undefined {
    const s = this.reporter.style.bind(this.reporter);
    switch (event.type) {
      case "batch.start":
        this.reporter.info(`Batch ${event.file}: ${event.people} ${event.people === 1 ? "person" : "people"} -> ${event.out}${event.budget !== null ? ` · budget ${formatUsd(event.budget)} (${formatUsd(event.spentUsd)} spent so far)` : ""}`);
        if (event.placeholder) this.reporter.warn(s("bold", "TEST MODE: a free rehearsal. PLACEHOLDER identities (no LoRA) and labelled PREVIEWS drawn from each person's own selfies, not generated photos; nothing is sent anywhere."));
        return undefined;
      case "person.start":
        return [event.person, `starting (${event.backend}${event.placeholder ? ", PLACEHOLDER" : ""})`, true];
      case "identity.reused":
        return [event.person, `identity ${event.identity} ready${event.placeholder ? " (PLACEHOLDER)" : ""}`, true];
      case "identity.selfies-changed":
        return [event.person, `selfies changed: retraining (old identity kept in ${event.movedTo})`, true];
      case "identity.training":
        return [event.person, `training on ${event.backend}${event.estimateUsd ? ` (about ${formatUsd(event.estimateUsd)})` : ""}`, true];
      case "identity.trained":
        return [event.person, `trained${event.placeholder ? " (PLACEHOLDER)" : ""}`, true];
      case "train.event": {
        const e = event.event;
        if (e.type === "trainer" && e.event.type === "progress") return [event.person, `training ${e.event.step}/${e.event.total}`, false];
        return undefined;
      }
      case "preset.superseded":
        return [event.person, `${event.preset}: ${event.reason}; old images kept in ${event.movedTo}`, true];
      case "lock.takeover":
        return [event.person, `${event.preset}: took over the lock of a run that is gone (pid ${event.takeover.previous.pid})`, true];
      case "preset.skipped":
        return [event.person, `${event.preset}: all ${event.images} images already there`, true];
      case "preset.start":
        return [event.person, `${event.preset}: generating ${event.remaining} of ${event.total}`, true];
      case "gen.event": {
        const e = event.event;
        if (e.type === "progress") return [event.person, `${event.preset}: ${e.done}/${e.total} done${e.failed ? ` · ${e.failed} failed` : ""}${e.running ? ` · ${e.running} running` : ""}`, false];
        return undefined;
      }
      case "polish.event": {
        const e = event.event;
        if (e.type === "polish.start") return [event.person, `${event.preset}: polishing ${e.files} kept images`, true];
        if (e.type === "polish.image.done") return [event.person, `${event.preset}: ${e.file} ${e.decision === "polished" ? "polished" : "kept the original"}`, false];
        return undefined;
      }
      case "preset.done":
        return [event.person, `${event.preset}: ${event.images} images${event.failed ? `, ${event.failed} missing` : ""}`, true];
      case "curate.done":
        return [event.person, `${event.preset}: ${event.scored ? `kept ${event.kept} of ${event.scored}, ` : "not scored, "}gallery ${event.gallery}`, true];
      case "person.done": {
        const colour = event.status === "done" ? "green" : "red";
        const what = event.status === "stopped" && event.stopped ? `stopped (${event.stopped})` : event.status;
        const cost = event.placeholder ? "PLACEHOLDERS, free" : formatUsd(event.spentUsd);
        return [event.person, `${s(colour, what)}: ${event.images}/${event.expected} images · ${cost}${event.error ? ` · ${String(event.error.message)}` : ""}`, true];
      }
      default:
        return undefined;
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, 100);
  }

  /** Redraws the block of person lines in place (terminal only). */
  private draw(): void {
    const rows = this.order.filter((p) => this.lines.has(p)).map((p) => `${p}: ${this.lines.get(p) ?? ""}`);
    let text = this.drawn ? `\x1b[${this.drawn}A` : "";
    for (const row of rows) text += `\x1b[2K${row}\n`;
    this.drawn = rows.length;
    this.reporter.stderrRaw(text);
  }

  /** Draws the last state and ignores every later event. */
  close(): void {
    this.stop();
    this.closed = true;
  }

  stop(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      if (this.reporter.interactive && !this.reporter.json) this.draw();
    }
  }
}

/** The closing lines for people: who is done, images, spend, galleries, failures and how to go on. */
export function showBatchResult(r: Reporter, result: BatchResult): void {
  const { outcomes, placeholderRun } = result;
  if (!r.json) {
    const notDone = outcomes.filter((o) => o.status !== "done");
    const spend = placeholderRun ? "PLACEHOLDERS, free" : `$${result.spentUsd.toFixed(2)} spent${result.budgetUsd !== undefined ? ` of $${result.budgetUsd.toFixed(2)}` : ""}`;
    const lines = [r.style("bold", `${outcomes.length - notDone.length} of ${outcomes.length} people done · ${outcomes.reduce((n, o) => n + o.images, 0)} images · ${spend}`)];
    for (const o of outcomes) {
      lines.push(`  ${o.name}: ${o.status}${o.stopped ? ` (${o.stopped})` : ""}${o.placeholder ? " · PLACEHOLDER" : ""} · ${o.images}/${o.expected} images${o.presets.map((p) => (p.gallery ? ` · ${p.gallery}` : "")).join("")}`);
      for (const f of o.failures) lines.push(`    ${r.style("red", f.code)} ${f.message}${f.hint ? `\n    how to fix: ${f.hint}` : ""}`);
      if (o.resume) lines.push(`    ${o.resume}`);
    }
    if (placeholderRun) lines.push(r.style("yellow", "TEST MODE: every image is a labelled PLACEHOLDER (a PREVIEW drawn from the person's selfies), not a generated photo. Drop --backend test to make real ones."));
    r.result(lines.join("\n"));
  }
  if (!result.error) r.summary(result.summary);
}
