/**
 * `headshot score <dir>`: how much each image looks like the person (relative to their own
 * selfies), flags images without exactly one face, and for an ai-toolkit training folder names the
 * checkpoint whose samples look most like them (issue 9). Heavy modules load inside the action.
 */
import { formatPct } from "../views/format.js";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Wrap } from "../context.js";
import { IDENTITY_THRESHOLDS } from "../../scoring/calibration.js";
import type { CommandContext } from "../context.js";
import type { Reporter } from "../reporter.js";
import { positiveNumber } from "../parsers.js";
import type { ImageScore } from "../../scoring/similarity.js";
import type { ScoreFolderResult } from "../../curation/score-folder.js";

const M = Math.round(IDENTITY_THRESHOLDS.match * 100);
const D = Math.round(IDENTITY_THRESHOLDS.doubtful * 100);

const EXAMPLES = `
Examples:
  headshot score ./headshots/jane/corporate --identity jane     table of likeness per image
  headshot score ./out --selfies ./selfies                      compare with a folder of your photos
  headshot score ./out --identity jane --gallery                also write index.html + contact-sheet.png
  headshot score ~/.headshot/identities/jane/training/jane --identity jane --checkpoints
  headshot score ./out --identity jane --json                   one JSON line per image, then a summary

Likeness is relative: 100% means "as much like you as your selfies are like each other".
Verdicts: match (>= ${M}% and raw similarity >= ${IDENTITY_THRESHOLDS.matchFloor}), doubtful (>= ${D}% and >= ${IDENTITY_THRESHOLDS.doubtfulFloor}:
look at it), not_you (the rest), no_face, multiple_faces, unreadable.
Exit codes: 0 scored (whatever the verdicts), 2 bad folder, flag or identity.
The face models run offline; results are cached in HEADSHOT_HOME by file content.
`;

interface ScoreFlags {
  identity?: string;
  selfies?: string;
  checkpoints?: boolean;
  gallery?: boolean;
  minSimilarity?: number;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

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

function jsonScore(score: ImageScore): Record<string, unknown> {
  return { ...score };
}

async function action(ctx: CommandContext, dirArg: string, flags: ScoreFlags): Promise<void> {
  const { scoreFolder } = await import("../../curation/score-folder.js");
  const { checkReferenceFlags } = await import("../../scoring/reference.js");
  // A missing reference is a usage error: say so before a spinner promises scoring.
  checkReferenceFlags(flags);
  const settings = await ctx.settings();
  const reporter = ctx.reporter;
  const progress = reporter.progress(`Scoring images in ${dirArg} (face models run offline)…`);
  let result: ScoreFolderResult;
  try {
    result = await scoreFolder({
      dir: resolve(ctx.cwd, dirArg),
      home: settings.home.value,
      ...(flags.identity ? { identity: flags.identity } : {}),
      ...(flags.selfies ? { selfies: resolve(ctx.cwd, flags.selfies) } : {}),
      checkpoints: Boolean(flags.checkpoints),
      gallery: Boolean(flags.gallery),
      ...(flags.minSimilarity !== undefined ? { minSimilarity: flags.minSimilarity } : {}),
      signal: ctx.signal,
      onProgress: (done, total, file) => progress.update(`Scored ${done}/${total}: ${file}`, { done, total, file }),
    });
  } catch (error) {
    progress.fail("Scoring stopped.");
    throw error;
  }
  progress.stop();
  for (const score of result.scores) reporter.event("image", jsonScore(score));
  for (const s of result.skipped ?? []) reporter.event("skipped", { file: s.file, path: s.path, reason: s.reason });
  reporter.result(renderTable(result, reporter));
  const ref = result.reference;
  reporter.result(`\nCompared with ${ref.label}: ${ref.count} selfies, their own similarity ${ref.self.mean.toFixed(3)} (face descriptor cosine) = 100%.`);
  const counts = new Map<string, number>();
  for (const s of result.scores) counts.set(s.verdict, (counts.get(s.verdict) ?? 0) + 1);
  reporter.result([...counts.entries()].map(([verdict, n]) => `${n} ${verdict}`).join(", "));
  for (const s of result.flagged) reporter.warn(`${s.file}: ${s.note}`);
  if (result.checkpoints) {
    const c = result.checkpoints;
    reporter.event("checkpoints", { name: c.name, steps: c.steps, ...(c.best ? { best: c.best } : {}) });
    const rows = c.steps.map((s) => `  step ${pad(String(s.step), 7)} ${pad(formatPct(s.meanRelative), 5)} mean likeness, ${s.matches}/${s.samples} samples match${s === c.best ? reporter.style("green", "  <- best") : ""}`);
    reporter.result(["", reporter.style("bold", `Checkpoints of ${c.name}:`), ...rows].join("\n"));
    if (c.best?.checkpoint) {
      reporter.result(
        `Best checkpoint: ${c.best.checkpoint} (step ${c.best.step}, ${formatPct(c.best.meanRelative)} mean likeness)${c.best.onDisk ? "" : reporter.style("yellow", " - not on disk any more (pruned by max_step_saves_to_keep?)")}`,
      );
    }
  }
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

export function registerScore(program: Command, wrap: Wrap): void {
  program
    .command("score")
    .description("score how much each image in a folder looks like you; flag images without exactly one face; pick the best training checkpoint")
    .argument("<dir>", "folder of images (gen output, any folder, or an ai-toolkit training folder with --checkpoints)")
    .option("-i, --identity <name>", "trained identity to compare with (headshot identities list)")
    .option("--selfies <dir>", "compare with a folder of your photos instead of a trained identity")
    .option("--checkpoints", "the folder is ai-toolkit's training output: group samples by step and name the best checkpoint")
    .option("--gallery", "also write index.html and contact-sheet.png into the folder (nothing is moved)")
    .option("--min-similarity <r>", `likeness a photo needs to count as kept in the gallery (default ${IDENTITY_THRESHOLDS.match} = ${M}%)`, positiveNumber("--min-similarity", 2))
    .addHelpText("after", EXAMPLES)
    .action(wrap(async (ctx, dir, flags) => action(ctx, dir as string, flags as ScoreFlags)));
}
