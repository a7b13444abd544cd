/**
 * `headshot score <dir>`: how much each image looks like the person (relative to their own
 * selfies), flags images without exactly one face, and for an ai-toolkit training folder names the
 * checkpoint whose samples look most like them (issue 9). Heavy modules load inside the action.
 */
import type { Command } from "commander";
import { IDENTITY_THRESHOLDS } from "../../scoring/calibration.js";
import type { CommandContext, Wrap } from "../context.js";
import { positiveNumber } from "../parsers.js";

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

async function action(ctx: CommandContext, dir: string, flags: ScoreFlags): Promise<void> {
  const { scoreFolder } = await import("../../curation/score-folder.js");
  const { ScoreView } = await import("../views/score.js");
  const settings = await ctx.settings();
  const view = new ScoreView(ctx.reporter);
  const request = {
    dir,
    cwd: ctx.cwd,
    home: settings.home.value,
    ...(flags.identity ? { identity: flags.identity } : {}),
    ...(flags.selfies ? { selfies: flags.selfies } : {}),
    checkpoints: Boolean(flags.checkpoints),
    gallery: Boolean(flags.gallery),
    ...(flags.minSimilarity !== undefined ? { minSimilarity: flags.minSimilarity } : {}),
  };
  try {
    view.result(await scoreFolder(request, ctx.io(view.handle)));
  } finally {
    view.stopped();
  }
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
