/**
 * The `check` use case: inspect a selfie folder offline, then either write the training folder
 * (`fix`) or the contact sheet alone (into HEADSHOT_HOME, never into the user's photo folder).
 * A rejected set ends in SelfiesRejectedError once the report and contact sheet are out.
 */
import { createHash } from "node:crypto";
import { basename, join, resolve } from "node:path";
import { SelfiesRejectedError } from "../errors.js";
import type { UseCaseIo } from "../use-case.js";
import { headshotCommand } from "../util/shell-quote.js";
import { PREPARED_DIR_NAME, runCheck } from "./check.js";
import { writeContactSheet } from "./contact-sheet.js";
import { prepareTrainingSet, validateClassWord, validateTrigger } from "./prepare.js";
import type { CheckReport, PreparedSet } from "./types.js";

export interface CheckSelfiesRequest {
  /** The folder as the person typed it (the resume command repeats it), resolved against `cwd`. */
  dir: string;
  cwd: string;
  /** HEADSHOT_HOME: the analysis cache and the contact sheets of un-fixed checks live under it. */
  home: string;
  recursive: boolean;
  trigger: string;
  classWord: string;
  /** Write the training folder; `out` as typed (default `<dir>/headshot-prepared`). */
  fix?: { out?: string };
}

export type CheckSelfiesEvent =
  | { type: "check.started"; dir: string }
  | { type: "check.progress"; done: number; total: number; file: string }
  | { type: "check.checked"; report: CheckReport }
  | { type: "check.contact-sheet"; path: string };

export interface CheckSelfiesResult {
  dir: string;
  report: CheckReport;
  contactSheet: string;
  prepared?: PreparedSet;
}

export async function checkSelfies(request: CheckSelfiesRequest, io: UseCaseIo<CheckSelfiesEvent>): Promise<CheckSelfiesResult> {
  validateTrigger(request.trigger);
  validateClassWord(request.classWord);
  const dir = resolve(request.cwd, request.dir);
  io.onEvent({ type: "check.started", dir: request.dir });
  const report = await runCheck(dir, {
    home: request.home,
    recursive: request.recursive,
    signal: io.signal,
    onProgress: (done, total, file) => io.onEvent({ type: "check.progress", done, total, file }),
  });
  io.onEvent({ type: "check.checked", report });
  let prepared: PreparedSet | undefined;
  let contactSheet: string;
  if (report.set.verdict !== "reject" && request.fix) {
    prepared = await prepare(request, dir, report, io.signal);
    contactSheet = prepared.contactSheetPath;
  } else {
    const id = createHash("sha256").update(dir).digest("hex").slice(0, 8);
    contactSheet = join(request.home, "contact-sheets", `${basename(dir) || "selfies"}-${id}.png`);
    await writeContactSheet(report, contactSheet);
  }
  io.onEvent({ type: "check.contact-sheet", path: contactSheet });
  if (report.set.verdict === "reject") {
    throw new SelfiesRejectedError(`The selfie set is not usable for training: ${report.set.usable} of ${report.set.total} photos are usable.`, {
      details: report.set.advice,
      hint: "Add sharp, well-lit photos of yourself alone (10-20 in total), then run headshot check again.",
    });
  }
  return { dir, report, contactSheet, ...(prepared ? { prepared } : {}) };
}

/** `--fix`: the training folder is staged and renamed into place whole, so a full disk lands nothing. */
async function prepare(request: CheckSelfiesRequest, dir: string, report: CheckReport, signal: AbortSignal): Promise<PreparedSet> {
  const out = request.fix?.out ? resolve(request.cwd, request.fix.out) : join(dir, PREPARED_DIR_NAME);
  try {
    return await prepareTrainingSet(report, out, { trigger: request.trigger, classWord: request.classWord, signal });
  } catch (error) {
    const { diskErrorCode, DiskFullError } = await import("../util/disk-full.js");
    const errno = diskErrorCode(error);
    if (!errno) throw error;
    throw new DiskFullError(errno, out, {
      landed: `nothing was written to ${out} (it is written all at once; the partial copy was removed); about ${Math.ceil(report.set.usable * 0.6)} MB are needed`,
      resume: headshotCommand(
        ["check", request.dir],
        [
          ["--fix", true],
          ["--trigger", request.trigger],
          ["--class", request.classWord],
          ["--out", request.fix?.out || undefined],
        ],
      ),
      cause: error,
    });
  }
}
