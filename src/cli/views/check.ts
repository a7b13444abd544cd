/**
 * How `check` shows itself: a progress line while the face models run, the verdict table, the
 * contact sheet and training folder, one `--json` event per photo and a summary.
 */
import type { CheckSelfiesEvent, CheckSelfiesResult } from "../../selfies/check-selfies.js";
import type { CheckReport, ImageReport } from "../../selfies/types.js";
import type { ProgressHandle, Reporter } from "../reporter.js";
import { pad } from "./format.js";

const COLOUR = { ok: "green", warn: "yellow", reject: "red" } as const;

function renderTable(report: CheckReport, reporter: Reporter): string {
  const width = Math.min(40, Math.max(4, ...report.images.map((i) => i.file.length)));
  const lines = [reporter.style("bold", `${pad("file", width)}  ${pad("verdict", 7)}  reasons`)];
  for (const image of report.images) {
    const verdict = reporter.style(COLOUR[image.verdict], pad(image.verdict, 7));
    const [first, ...rest] = image.reasons;
    lines.push(`${pad(image.file, width)}  ${verdict}  ${first ? `${first.message} ${reporter.style("dim", `→ ${first.fix}`)}` : ""}`);
    for (const r of rest) lines.push(`${pad("", width)}  ${pad("", 7)}  ${r.message} ${reporter.style("dim", `→ ${r.fix}`)}`);
  }
  for (const skipped of report.skipped ?? []) lines.push(`${pad(skipped.file, width)}  ${reporter.style("dim", pad("skipped", 7))}  ${skipped.reason}`);
  const set = report.set;
  lines.push("", `${reporter.style("bold", "Set:")} ${reporter.style(COLOUR[set.verdict], set.verdict)}, ${set.usable} of ${set.total} photos usable (${set.closeups ?? 0} close-ups, ${set.wide ?? 0} wider).`);
  for (const advice of set.advice) lines.push(`  - ${advice}`);
  return lines.join("\n");
}

function jsonImage(image: ImageReport): Record<string, unknown> {
  const { embedding: _embedding, ...rest } = image;
  return rest;
}

export class CheckView {
  private progress: ProgressHandle | undefined;

  constructor(private readonly reporter: Reporter) {}

  handle = (event: CheckSelfiesEvent): void => {
    const r = this.reporter;
    switch (event.type) {
      case "check.started":
        this.progress = r.progress(`Checking photos in ${event.dir} (face models run offline)…`);
        return;
      case "check.progress":
        return this.progress?.update(`Checked ${event.done}/${event.total}: ${event.file}`, { done: event.done, total: event.total, file: event.file });
      case "check.checked": {
        this.progress?.stop();
        this.progress = undefined;
        const report = event.report;
        for (const image of report.images) r.event("image", jsonImage(image));
        for (const skipped of report.skipped ?? []) r.event("skipped", { file: skipped.file, path: skipped.path, reason: skipped.reason });
        r.event("set", { ...report.set });
        return r.result(renderTable(report, r));
      }
      case "check.contact-sheet":
        return r.result(`\nContact sheet: ${event.path}`);
    }
  };

  /** The check itself failed (not what came after it): the progress line says it stopped. */
  stopped(): void {
    this.progress?.fail("Check stopped.");
    this.progress = undefined;
  }

  result(result: CheckSelfiesResult, fix: boolean, trigger: string, classWord: string): void {
    const r = this.reporter;
    const prepared = result.prepared;
    if (prepared) {
      r.result(`Training folder: ${prepared.dir} (${prepared.images.length} images with captions "${trigger} ${classWord}, …")`);
      r.result(`Report: ${prepared.reportPath}`);
    } else if (!fix) {
      r.info(r.style("dim", "Run again with --fix to write the training folder."));
    }
    r.summary({
      dir: result.dir,
      set: result.report.set,
      contactSheet: result.contactSheet,
      ...(prepared ? { prepared: { dir: prepared.dir, root: prepared.root, images: prepared.images, datasetHash: prepared.datasetHash, reportPath: prepared.reportPath } } : {}),
    });
  }
}
