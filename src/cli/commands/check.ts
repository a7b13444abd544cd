/**
 * `headshot check <dir>`: inspect selfies offline, say which ones will hurt the training and why,
 * and with --fix write a ready training folder (issue 3). Heavy modules load inside the action.
 */
import type { Command } from "commander";
import type { CommandContext, Wrap } from "../context.js";

const EXAMPLES = `
Examples:
  headshot check ./selfies                      verdict per photo and for the set
  headshot check ./selfies --fix                also write ./selfies/headshot-prepared
  headshot check ./selfies --fix --out ./train --trigger ohwx --class woman
  headshot check ./selfies --json               one JSON line per photo, then a summary

Verdicts: ok (used), warn (used, but read the reason), reject (left out).
Exit codes: 0 set usable, 2 folder missing or bad flag, 6 set rejected (fewer than 6 usable photos).
The face models run offline; results are cached in HEADSHOT_HOME by file content.
`;

interface CheckFlags {
  fix?: boolean;
  out?: string;
  trigger: string;
  class: string;
  recursive?: boolean;
}

async function action(ctx: CommandContext, dir: string, flags: CheckFlags): Promise<void> {
  const { checkSelfies } = await import("../../selfies/check-selfies.js");
  const { CheckView } = await import("../views/check.js");
  const settings = await ctx.settings();
  const view = new CheckView(ctx.reporter);
  const request = {
    dir,
    cwd: ctx.cwd,
    home: settings.home.value,
    recursive: Boolean(flags.recursive),
    trigger: flags.trigger,
    classWord: flags.class,
    ...(flags.fix ? { fix: flags.out !== undefined ? { out: flags.out } : {} } : {}),
  };
  try {
    view.result(await checkSelfies(request, ctx.io(view.handle)), Boolean(flags.fix), flags.trigger, flags.class);
  } finally {
    view.stopped();
  }
}

export function registerCheck(program: Command, wrap: Wrap): void {
  program
    .command("check")
    .description("inspect a folder of selfies offline: which photos help, which hurt and why; --fix writes a training folder")
    .argument("<dir>", "folder with your photos (JPEG, PNG, WebP, AVIF, TIFF, GIF, HEIC)")
    .option("--fix", "write the prepared training folder (crops, captions, report.json, contact sheet)")
    .option("--out <dir>", "where --fix writes (default: <dir>/headshot-prepared)")
    .option("--trigger <word>", "rare word that will stand for you in captions and prompts", "ohwx")
    .option("--class <word>", "class word after the trigger: man, woman or person", "person")
    .option("-r, --recursive", "also read photos in sub-folders")
    .addHelpText("after", EXAMPLES)
    .action(wrap(async (ctx, dir, flags) => action(ctx, dir as string, flags as CheckFlags)));
}
