/**
 * How `score` shows itself: a progress line while the face models run, the likeness table, the
 * verdict counts, the best checkpoint and the gallery, one `--json` event per image and a summary.
 */
import type { ScoreFolderEvent, ScoreFolderResult } from "../../curation/score-folder.js";
import type { ProgressHandle, Reporter } from "../reporter.js";
import { formatPct, pad } from "./format.js";

const COLOUR = { match: "green", doubtful: "yellow" } as const;

function renderTable(result: ScoreFolderResult, reporter: Reporter): string {
  const width = Math.min(48, Math.max(4, ...result.scores.map((s) => s.file.length)));
  const lines = [reporter.style("bold", `${pad("file", width)}  faces  likeness  ${pad("verdict", 14)}  quality`)];
  for (const s of result.scores) {
    const colour = COLOUR[s.verdict as keyof typeof COLOUR] ?? "red";
    const issues = s.quality.issues.length ? ` (${s.quality.issues.join(", ")})` : "";
    lines.push(
      `${pad(s.file, width)}  ${pad(String(s.faces), 5)}  ${pad(formatPct(s.relative), 8)}  ${reporter.style(colour, pad(s.verdict, 14))}  ${s.verdict === "unreadable" ? s.note : s.faces === 0 ? "-" : `${s.quality.score.toFixed(2)}${issues}`}`,
    );
  }
  // As check lists them: entries named like images that are not files (never opened).
  for (const s of result.skipped ?? []) lines.push(`${pad(s.file, width)}  ${pad("-", 5)}  ${pad("-", 8)}  ${reporter.style("dim", pad("skipped", 14))}  ${s.reason}`);
  return lines.join("\n");
}

function renderCheckpoints(checkpoints: NonNullable<ScoreFolderResult["checkpoints"]>, reporter: Reporter): void {
  const c = checkpoints;
  reporter.event("checkpoints", { name: c.name, steps: c.steps, ...(c.best ? { best: c.best } : {}) });
  const rows = c.steps.map((s) => `  step ${pad(String(s.step), 7)} ${pad(formatPct(s.meanRelative), 5)} mean likeness, ${s.matches}/${s.samples} samples match${s === c.best ? reporter.style("green", "  <- best") : ""}`);
  reporter.result(["", reporter.style("bold", `Checkpoints of ${c.name}:`), ...rows].join("\n"));
  if (c.best?.checkpoint) {
    reporter.result(
      `Best checkpoint: ${c.best.checkpoint} (step ${c.best.step}, ${formatPct(c.best.meanRelative)} mean likeness)${c.best.onDisk ? "" : reporter.style("yellow", " - not on disk any more (pruned by max_step_saves_to_keep?)")}`,
    );
  }
}

export class ScoreView {
  private progress: ProgressHandle | undefined;

  constructor(private readonly reporter: Reporter) {}

  handle = (event: ScoreFolderEvent): void => {
    if (event.type === "score.started") this.progress = this.reporter.progress(`Scoring images in ${event.dir} (face models run offline)…`);
    else this.progress?.update(`Scored ${event.done}/${event.total}: ${event.file}`, { done: event.done, total: event.total, file: event.file });
  };

  /** Scoring failed: the progress line says it stopped. */
  stopped(): void {
    this.progress?.fail("Scoring stopped.");
    this.progress = undefined;
  }

  result(result: ScoreFolderResult): void {
    const reporter = this.reporter;
    this.progress?.stop();
    this.progress = undefined;
    for (const score of result.scores) reporter.event("image", { ...score });
    for (const s of result.skipped ?? []) reporter.event("skipped", { file: s.file, path: s.path, reason: s.reason });
    reporter.result(renderTable(result, reporter));
    const ref = result.reference;
    reporter.result(`\nCompared with ${ref.label}: ${ref.count} selfies, their own similarity ${ref.self.mean.toFixed(3)} (face descriptor cosine) = 100%.`);
    const counts = new Map<string, number>();
    for (const s of result.scores) counts.set(s.verdict, (counts.get(s.verdict) ?? 0) + 1);
    reporter.result([...counts.entries()].map(([verdict, n]) => `${n} ${verdict}`).join(", "));
    for (const s of result.flagged) reporter.warn(`${s.file}: ${s.note}`);
    if (result.checkpoints) renderCheckpoints(result.checkpoints, reporter);
    if (result.gallery) reporter.result(`\nGallery: ${result.gallery.index}\nContact sheet: ${result.gallery.contactSheet}`);
    reporter.summary({
      dir: result.dir,
      reference: { label: ref.label, count: ref.count, self: ref.self },
      images: result.scores.length,
      verdicts: Object.fromEntries(counts),
      flagged: result.flagged.map((s) => ({ file: s.file, verdict: s.verdict, faces: s.faces })),
      ...(result.skipped ? { skipped: result.skipped.map((s) => ({ file: s.file, reason: s.reason })) } : {}),
      ...(result.checkpoints ? { checkpoints: { name: result.checkpoints.name, best: result.checkpoints.best ?? null } } : {}),
      ...(result.gallery ? { gallery: result.gallery } : {}),
    });
  }
}
