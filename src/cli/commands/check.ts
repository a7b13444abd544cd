/**
 * `headshot check <dir>`: inspect selfies offline, say which ones will hurt the training and why,
 * and with --fix write a ready training folder (issue 3). Heavy modules load inside the action.
 */
import { createHash } from "node:crypto";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { SelfiesRejectedError } from "../../errors.js";
import type { Wrap } from "../context.js";
import type { CommandContext } from "../context.js";
import type { Reporter } from "../reporter.js";
import type { CheckReport, ImageReport, PreparedSet } from "../../selfies/types.js";

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

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + " ".repeat(width - text.length);
}

function renderTable(report: CheckReport, reporter: Reporter): string {
  const width = Math.min(40, Math.max(4, ...report.images.map((i) => i.file.length)));
  const colour = { ok: "green", warn: "yellow", reject: "red" } as const;
  const lines = [reporter.style("bold", `${pad("file", width)}  ${pad("verdict", 7)}  reasons`)];
  for (const image of report.images) {
    const verdict = reporter.style(colour[image.verdict], pad(image.verdict, 7));
    const [first, ...rest] = image.reasons;
    lines.push(`${pad(image.file, width)}  ${verdict}  ${first ? `${first.message} ${reporter.style("dim", `→ ${first.fix}`)}` : ""}`);
    for (const r of rest) lines.push(`${pad("", width)}  ${pad("", 7)}  ${r.message} ${reporter.style("dim", `→ ${r.fix}`)}`);
  }
  for (const skipped of report.skipped ?? []) lines.push(`${pad(skipped.file, width)}  ${reporter.style("dim", pad("skipped", 7))}  ${skipped.reason}`);
  const set = report.set;
  lines.push("", `${reporter.style("bold", "Set:")} ${reporter.style(colour[set.verdict], set.verdict)}, ${set.usable} of ${set.total} photos usable (${set.closeups ?? 0} close-ups, ${set.wide ?? 0} wider).`);
  for (const advice of set.advice) lines.push(`  - ${advice}`);
  return lines.join("\n");
}

function jsonImage(image: ImageReport): Record<string, unknown> {
  const { embedding: _embedding, ...rest } = image;
  return rest;
}

async function action(ctx: CommandContext, dirArg: string, flags: CheckFlags): Promise<void> {
  const selfies = await import("../../selfies/index.js");
  selfies.validateTrigger(flags.trigger);
  selfies.validateClassWord(flags.class);
  const dir = resolve(ctx.cwd, dirArg);
  const settings = await ctx.settings();
  const home = settings.home.value;
  const reporter = ctx.reporter;
  const progress = reporter.progress(`Checking photos in ${dirArg} (face models run offline)…`);
  let report: CheckReport;
  try {
    report = await selfies.runCheck(dir, {
      home,
      recursive: Boolean(flags.recursive),
      signal: ctx.signal,
      onProgress: (done, total, file) => progress.update(`Checked ${done}/${total}: ${file}`, { done, total, file }),
    });
  } catch (error) {
    progress.fail("Check stopped.");
    throw error;
  }
  progress.stop();
  for (const image of report.images) reporter.event("image", jsonImage(image));
  for (const skipped of report.skipped ?? []) reporter.event("skipped", { file: skipped.file, path: skipped.path, reason: skipped.reason });
  reporter.event("set", { ...report.set });
  reporter.result(renderTable(report, reporter));

  let prepared: PreparedSet | undefined;
  let contactSheet: string;
  if (report.set.verdict !== "reject" && flags.fix) {
    const out = flags.out ? resolve(ctx.cwd, flags.out) : join(dir, selfies.PREPARED_DIR_NAME);
    try {
      prepared = await selfies.prepareTrainingSet(report, out, { trigger: flags.trigger, classWord: flags.class, signal: ctx.signal });
    } catch (error) {
      // The training folder is staged and renamed into place whole: on a full disk nothing landed.
      const { diskErrorCode, DiskFullError } = await import("../../util/disk-full.js");
      const errno = diskErrorCode(error);
      if (!errno) throw error;
      throw new DiskFullError(errno, out, {
        landed: `nothing was written to ${out} (it is written all at once; the partial copy was removed); about ${Math.ceil(report.set.usable * 0.6)} MB are needed`,
        resume: `headshot check ${dirArg} --fix --trigger ${flags.trigger} --class ${flags.class}${flags.out ? ` --out ${flags.out}` : ""}`,
        cause: error,
      });
    }
    contactSheet = prepared.contactSheetPath;
  } else {
    // Without --fix the contact sheet goes to HEADSHOT_HOME, never into the user's photo folder.
    const id = createHash("sha256").update(dir).digest("hex").slice(0, 8);
    contactSheet = join(home, "contact-sheets", `${basename(dir) || "selfies"}-${id}.png`);
    await selfies.writeContactSheet(report, contactSheet);
  }
  reporter.result(`\nContact sheet: ${contactSheet}`);
  if (report.set.verdict === "reject") {
    throw new SelfiesRejectedError(`The selfie set is not usable for training: ${report.set.usable} of ${report.set.total} photos are usable.`, {
      details: report.set.advice,
      hint: "Add sharp, well-lit photos of yourself alone (10-20 in total), then run headshot check again.",
    });
  }
  if (prepared) {
    reporter.result(`Training folder: ${prepared.dir} (${prepared.images.length} images with captions "${flags.trigger} ${flags.class}, …")`);
    reporter.result(`Report: ${prepared.reportPath}`);
  } else if (!flags.fix) {
    reporter.info(reporter.style("dim", "Run again with --fix to write the training folder."));
  }
  reporter.summary({
    dir,
    set: report.set,
    contactSheet,
    ...(prepared ? { prepared: { dir: prepared.dir, root: prepared.root, images: prepared.images, datasetHash: prepared.datasetHash, reportPath: prepared.reportPath } } : {}),
  });
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
