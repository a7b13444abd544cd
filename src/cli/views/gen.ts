/**
 * How `gen` shows itself: the use case's events (src/generate/generate.ts) as a live progress line
 * (spinner on a TTY, throttled plain lines otherwise) plus warnings, NDJSON events with --json, and
 * the closing summary with the curation lines.
 */
import { join } from "node:path";
import type { ProgressHandle, Reporter } from "../reporter.js";
import type { GenerateEvent, GenerateResult } from "../../generate/generate.js";
import { summaryBase } from "../../generate/generate.js";
import { REJECTED_DIR, type CurationEvent, type CurationOutcome } from "../../generate/curation-step.js";
import type { LocalRunEvent } from "../../generation/local/backend-setup.js";
import { jsonWorthy, renderLocalEvent } from "./local-gen.js";
import { PolishView, polishResultLines } from "./polish.js";
import type { PolishFolderEvent } from "../../polish/polish-folder.js";
import { progressLine, summaryLines } from "./gen-summary.js";
import { renderPlan } from "./plan.js";
import { formatPct } from "./format.js";

export class GenView {
  private progress: ProgressHandle | undefined;
  private scoring: ProgressHandle | undefined;
  private readonly placeholder: boolean;
  /** --backend test with a person: previews from their selfies (a rehearsal), not placeholder cards. */
  private rehearsal = false;
  private line = "Generating";
  /** The face detail pass after the batch (gen --polish). */
  private polish: PolishView | undefined;

  constructor(
    private readonly reporter: Reporter,
    backend: string,
  ) {
    this.placeholder = backend === "test";
  }

  onEvent = (event: GenerateEvent): void => {
    const { type, ...data } = event;
    if (type === "polish.start") {
      this.stop();
      this.polish = new PolishView(this.reporter, (event as Extract<PolishFolderEvent, { type: "polish.start" }>).dir);
    }
    if (this.polish) return this.polish.onEvent(event as PolishFolderEvent);
    if (type.startsWith("gen.local.")) return this.onLocalEvent(event as LocalRunEvent);
    if (type.startsWith("curation.") || type === "gen.scored") return this.onCurationEvent(event as CurationEvent);
    if (event.type === "rehearsal.ready") this.rehearsal = true;
    if (this.reporter.json) {
      this.reporter.event(type === "progress" ? "gen.progress" : type, data);
      return;
    }
    switch (event.type) {
      case "batch.opened":
        if (event.resumed) this.reporter.info(`Resuming the batch in ${event.manifest}: ${event.remaining} image${event.remaining === 1 ? "" : "s"} left.`);
        for (const repair of event.repairs) this.reporter.debug(`repaired: ${repair}`);
        if (this.rehearsal) this.reporter.warn("--backend test rehearses: labelled PREVIEWS drawn from your own selfies, not generated photos.");
        else if (this.placeholder) this.reporter.warn("--backend test makes labelled PLACEHOLDER images, not photos of anyone.");
        break;
      case "references":
        this.reporter.info(`${event.reused ? "Reusing" : "Using"} ${event.picked.length} reference photo${event.picked.length === 1 ? "" : "s"}: ${event.picked.map((p) => p.file).join(", ")}`);
        for (const s of event.skipped) this.reporter.debug(`  not used: ${s.file} (${s.reason})`);
        break;
      case "progress":
        this.line = progressLine(event, this.placeholder);
        this.showProgress(this.line);
        break;
      case "image.retry":
        this.reporter.debug(`${event.key}: attempt ${event.attempt} ${event.kind} (${event.code}): ${event.message}; retrying`);
        break;
      case "image.failed":
      case "image.filtered":
        if (!this.reporter.interactive) this.reporter.warn(`${event.key}: ${event.message}`);
        break;
      case "image.done":
        this.reporter.debug(`wrote ${event.file}`);
        break;
      case "lock.takeover":
        this.reporter.warn(`took over the lock on ${event.folder}: the run that held it (pid ${event.previous.pid}${event.previous.startedAt ? `, started ${event.previous.startedAt}` : ""}) is gone`);
        break;
      default:
        break;
    }
  };

  /** --backend local: GPU, memory mode, loading lines; the denoising step joins the progress line. */
  private onLocalEvent(event: LocalRunEvent): void {
    if (this.reporter.json) {
      const { type, ...data } = event;
      if (jsonWorthy(event)) this.reporter.event(type, data);
      return;
    }
    const step = renderLocalEvent(this.reporter, event);
    if (step) this.showProgress(`${this.line} · ${step}`);
  }

  private onCurationEvent(event: CurationEvent): void {
    const r = this.reporter;
    switch (event.type) {
      case "gen.scored": {
        const { type, ...data } = event;
        if (r.json) r.event(type, data);
        else r.debug(`scored ${event.file}: ${formatPct(event.relative)} ${event.verdict}${event.passed ? " (passes)" : ""}`);
        return;
      }
      case "curation.start":
        this.stop();
        if (!r.json) this.scoring = r.progress("Scoring likeness");
        return;
      case "curation.scoring":
        this.scoring?.update(`Scoring likeness: ${event.done}/${event.total}`);
        return;
      case "curation.scored":
        this.scoring?.stop();
        this.scoring = undefined;
        return;
    }
  }

  private showProgress(text: string): void {
    if (!this.progress) this.progress = this.reporter.progress(text);
    else this.progress.update(text);
  }

  stop(): void {
    this.polish?.stop();
    this.progress?.stop();
    this.progress = undefined;
    this.scoring?.stop();
    this.scoring = undefined;
  }
}

/** The end of `gen`: the plan (--dry-run), or warnings, the summary and the curation lines. */
export function showGenerateResult(r: Reporter, outcome: GenerateResult): void {
  if (outcome.dryRun) {
    const plan = outcome.plan;
    for (const image of plan.images) r.event("plan.image", { ...image });
    r.result(renderPlan(plan, r, { missing: outcome.missing }));
    if (outcome.polish) r.info(`After the batch: the face detail pass on the kept images (see: headshot polish ${plan.outDir} --identity ${outcome.polish.identity} --dry-run).`);
    r.summary({ dryRun: true, ...summaryBase(plan), estimates: plan.estimates, priceTable: plan.priceTable });
    return;
  }
  for (const w of outcome.curated?.warnings ?? []) r.warn(w);
  if (outcome.polished) for (const line of polishResultLines(r, outcome.polished)) r.result(line);
  const lines = summaryLines(outcome.output.result, outcome.context, r.style.bind(r));
  r.result([...lines, ...(outcome.curated ? curationLines(outcome.curated, outcome.plan.outDir, r) : [])].join("\n"));
  if (!outcome.error) r.summary(outcome.batch);
}

/** The kept images best first, the ones set aside (and why), and where the gallery is. */
function curationLines(curated: CurationOutcome, outDir: string, reporter: Reporter): string[] {
  const { result, select } = curated;
  const s = reporter.style.bind(reporter);
  const lines: string[] = [];
  if (result.scored) {
    const kept = result.images.filter((i) => i.kept).sort((a, b) => b.score.rank - a.score.rank);
    lines.push(s("bold", select ? `Kept ${kept.length} of ${result.images.length}, best first:` : `Likeness, best first (${kept.length} of ${result.images.length} look like you):`));
    for (const image of kept) {
      lines.push(`  ${image.file}  ${formatPct(image.score.relative)} ${image.score.verdict}${image.crops.length ? s("dim", `  + ${image.crops.length} crops`) : ""}`);
    }
    const aside = result.images.filter((i) => !i.kept);
    if (aside.length) {
      lines.push(select ? `  ${aside.length} set aside in ${join(outDir, REJECTED_DIR)}/ (scores in their sidecars):` : `  ${aside.length} below the bar (dimmed in the gallery):`);
      for (const image of aside) {
        const why = image.reason ? `: ${curated.rejectMessages[image.reason] ?? image.reason}` : "";
        lines.push(s("dim", `    ${image.file}  ${formatPct(image.score.relative)} ${image.score.verdict}${why}`));
      }
    }
  }
  lines.push(`Gallery: ${result.galleryPath}  (contact sheet: ${result.contactSheetPath})`);
  return lines;
}
