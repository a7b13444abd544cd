/**
 * How polish shows itself (`headshot polish`, and `gen --polish` after its batch): the use case's
 * events (src/polish/polish-folder.ts) as a progress line and one line per image, NDJSON events
 * with --json, and the closing lines: the dry run's faces and calls, or each image's decision.
 */
import type { ProgressHandle, Reporter } from "../reporter.js";
import type { PolishFolderEvent, PolishFolderResult } from "../../polish/polish-folder.js";
import type { LocalRunEvent } from "../../generation/local/backend-setup.js";
import { jsonWorthy, renderLocalEvent } from "./local-gen.js";
import { percent } from "../../util/percent.js";

const pct = (v: number | undefined): string => (v === undefined ? "-" : percent(v));

export class PolishView {
  private progress: ProgressHandle | undefined;

  constructor(
    private readonly reporter: Reporter,
    /** As the user wrote the folder, for the progress line. */
    private readonly shown: string,
  ) {}

  onEvent = (event: PolishFolderEvent): void => {
    const r = this.reporter;
    if (event.type.startsWith("gen.local.")) {
      const { type, ...data } = event as LocalRunEvent;
      if (jsonWorthy(event as LocalRunEvent)) r.event(type, data);
      if (!r.json) renderLocalEvent(r, event as LocalRunEvent);
      return;
    }
    if (event.type === "polish.start") {
      this.progress = r.progress(event.dryRun ? `Finding faces in ${event.files} images (offline)…` : `Polishing ${event.files} images in ${this.shown}…`);
      return;
    }
    const { type, ...data } = event;
    if (event.type === "polish.progress") {
      const eta = event.etaSeconds !== undefined && event.done < event.total ? `, about ${event.etaSeconds}s left` : "";
      this.progress?.update(`Polished ${event.done}/${event.total}${eta}`, data);
      return;
    }
    r.event(type, data);
    if (event.type === "polish.image.started") this.progress?.update(`Polishing ${event.index}/${event.total}: ${event.file}`);
    if (event.type === "polish.image.done") r.info(`${event.file}: ${event.decision === "polished" ? "polished" : "kept the original"} (${event.reason}) -> ${event.final}`);
    if (event.type === "polish.image.skipped") r.info(`${event.file}: ${event.reason}`);
  };

  stop(): void {
    this.progress?.stop();
    this.progress = undefined;
  }
}

/** The dry run's faces and calls, or each image's decision and the totals (stdout). */
export function polishResultLines(r: Reporter, result: PolishFolderResult): string[] {
  if (result.dryRun) {
    const lines: string[] = [];
    for (const entry of result.entries) {
      if (!entry.faces.length) {
        lines.push(`${entry.file}: no face found, left as it is`);
        continue;
      }
      for (const face of entry.faces) {
        const [x, y, w, h] = face.box;
        lines.push(`${entry.file} face ${face.index}: box ${w}x${h} at ${x},${y}; region ${face.region.side}px at ${face.region.left},${face.region.top}; seed ${face.seed}`);
        const call = result.calls.find((c) => c.file === entry.file && c.face.index === face.index);
        lines.push(r.style("dim", `  inputs ${JSON.stringify(call?.inputs ?? {})}`));
      }
    }
    const { estimate } = result;
    const upscales = result.upscaler ? ` + ${estimate.upscales} upscale${estimate.upscales === 1 ? "" : "s"} (${result.upscaler})` : "";
    return [lines.join("\n"), `\n${estimate.faces} face pass${estimate.faces === 1 ? "" : "es"} on ${result.model}${upscales}: about $${estimate.costUsd.toFixed(3)}, ${estimate.seconds}s. Nothing was run.`];
  }
  const { outcome, files } = result;
  const rows = Object.values(outcome.manifest.images).filter((e) => files.includes(e.file));
  const each = rows.map(
    (e) =>
      `${e.file}: ${e.status === "skipped" ? e.note : e.status === "failed" ? `failed: ${e.note}` : `${e.decision === "polished" ? "polished" : "original kept"}, likeness ${pct(e.scores?.before.relative)} -> ${pct(e.scores?.after.relative)}, quality ${e.scores?.before.quality ?? "-"} -> ${e.scores?.after.quality ?? "-"}`}`,
  );
  const totals = `\n${outcome.polished} polished, ${outcome.keptOriginal} kept as they were, ${outcome.skipped} without a face, ${outcome.failed} failed; cost $${outcome.costUsd.toFixed(3)}${result.placeholder ? " (test backend: rehearsal, not a real face pass)" : ""}.\nManifest: ${outcome.manifestPath}`;
  return [each.join("\n"), totals];
}

/** `headshot polish`: the lines, then the summary (dry run) or the error that exits 5. */
export function showPolishResult(r: Reporter, result: PolishFolderResult): void {
  if (result.dryRun) {
    for (const e of result.entries) r.event("polish.plan", { file: e.file, faces: e.faces.map((f) => ({ box: f.box, region: f.region, seed: f.seed })) });
  }
  for (const line of polishResultLines(r, result)) r.result(line);
  if (result.dryRun) {
    r.summary({ dryRun: true, dir: result.dir, backend: result.backend, model: result.model, ...result.estimate });
    return;
  }
  if (!result.error) r.summary({ ok: true, ...result.summary });
}
