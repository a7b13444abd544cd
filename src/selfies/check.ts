/**
 * `runCheck`: inspects every file of a selfie folder offline and returns per-image verdicts and
 * the set verdict. I/O lives here; the verdicts come from rules.ts and set-rules.ts.
 */
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import pLimit from "p-limit";
import { InterruptedError, UsageError } from "../errors.js";
import { analyseImage, type ImageAnalysis } from "./analyze.js";
import { readCachedAnalysis, writeCachedAnalysis } from "./check-cache.js";
import { DecodeFailure } from "./decode.js";
import { warmFaceWorkers } from "./faces.js";
import { imageReasons, faceArea, THRESHOLDS, verdictOf } from "./rules.js";
import { selfSimilarity, setReasons, setVerdict, type SetEntry } from "./set-rules.js";
import type { CheckReport, ImageReport, SkippedEntry } from "./types.js";
import { NotReadableError, readRegularFile, REASON_TEXT, whyNotAPhoto } from "../util/regular-file.js";

/** No phone photo comes near this (a 48 MP HEIC is ~10 MB, a JPEG ~25 MB); checked before reading. */
export const MAX_SELFIE_BYTES = 64 * 1024 * 1024;

/** The default `--fix` output folder name, skipped when walking a folder. */
export const PREPARED_DIR_NAME = "headshot-prepared";

export interface CheckOptions {
  /** HEADSHOT_HOME: the analysis cache lives under it. */
  home: string;
  recursive?: boolean;
  signal?: AbortSignal;
  /** Called once per image with its final report, in file order, when the whole set is judged. */
  onImage?: (report: ImageReport) => void;
  /** Called as each image is analysed (for a progress line). */
  onProgress?: (done: number, total: number, file: string) => void;
  /** Images analysed at once: decoding overlaps with face detection. */
  concurrency?: number;
}

/**
 * The photo files of a folder, and what was skipped and why: only regular files (links followed)
 * are photos. A link to /dev/zero or to a FIFO is never opened (issue 14, R1); a link to a folder
 * is named as such instead of failing as an unreadable photo (R8), and is not followed.
 */
async function listFiles(dir: string, recursive: boolean): Promise<{ files: string[]; skipped: SkippedEntry[] }> {
  const out: string[] = [];
  const skipped: SkippedEntry[] = [];
  const skip = (path: string, reason: string) => skipped.push({ file: relative(dir, path).split(sep).join("/"), path, reason });
  const walk = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true });
    for (const entry of entries) {
      // Hidden files (.DS_Store, ._IMG_0001.JPG from macOS copies) are never photos.
      if (entry.name.startsWith(".")) continue;
      const full = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (recursive && entry.name !== PREPARED_DIR_NAME) await walk(full);
      } else {
        const reason = await whyNotAPhoto(entry, full);
        if (reason === undefined) out.push(full);
        else skip(full, reason);
      }
    }
  };
  await walk(dir);
  const byName = (a: { path: string } | string, b: { path: string } | string) => {
    const [x, y] = [typeof a === "string" ? a : a.path, typeof b === "string" ? b : b.path];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return { files: out.sort(byName), skipped: skipped.sort(byName) };
}

async function ensureDir(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch {
    throw new UsageError(`The selfie folder ${dir} does not exist.`, {
      code: "E_SELFIES_DIR",
      hint: "Pass the folder that holds your photos: headshot check ./selfies",
    });
  }
  if (!info.isDirectory()) {
    throw new UsageError(`${dir} is a file, not a folder.`, {
      code: "E_SELFIES_DIR",
      hint: "Put your photos in a folder and pass the folder: headshot check ./selfies",
    });
  }
}

interface Analysed {
  report: ImageReport;
  analysis?: ImageAnalysis;
}

async function inspectFile(dir: string, path: string, home: string): Promise<Analysed> {
  const file = relative(dir, path).split(sep).join("/");
  const base: ImageReport = { file, path, sha256: "", verdict: "reject", reasons: [] };
  let bytes: Buffer;
  try {
    bytes = await readRegularFile(path, MAX_SELFIE_BYTES);
  } catch (error) {
    if (error instanceof NotReadableError && error.reason === "too-large") {
      const mb = (n: number) => `${Math.round(n / 1024 / 1024)} MB`;
      base.reasons.push({ code: "too_large", severity: "reject", message: `The file is ${mb(error.size ?? 0)}; no photo is larger than ${mb(MAX_SELFIE_BYTES)}.`, fix: "Export the photo as JPEG, or remove the file from the folder." });
      return { report: base };
    }
    const detail = error instanceof NotReadableError ? REASON_TEXT[error.reason] : error instanceof Error ? error.message : String(error);
    base.reasons.push({ code: "unreadable", severity: "reject", message: `The file cannot be read (${detail}).`, fix: "Check the file's permissions, or copy it again." });
    return { report: base };
  }
  base.sha256 = createHash("sha256").update(bytes).digest("hex");
  let analysis = await readCachedAnalysis(home, base.sha256);
  if (!analysis) {
    try {
      analysis = await analyseImage(bytes);
    } catch (error) {
      if (!(error instanceof DecodeFailure)) throw error;
      base.reasons.push({ code: error.code, severity: "reject", message: error.message, fix: error.fix });
      return { report: base };
    }
    await writeCachedAnalysis(home, base.sha256, analysis);
  }
  const face = analysis.faces[0];
  const report: ImageReport = {
    ...base,
    width: analysis.width,
    height: analysis.height,
    format: analysis.format,
    faceCount: analysis.faces.length,
    dhash: analysis.dhash,
    reasons: imageReasons(analysis),
  };
  if (face) {
    report.face = { box: face.box, score: face.score, yaw: face.yaw, pitch: face.pitch, roll: face.roll };
    report.faceFraction = Math.round(faceArea(analysis) * 10000) / 10000;
  }
  if (analysis.sharpness !== undefined) report.sharpness = analysis.sharpness;
  if (analysis.faceLuma) report.brightness = Math.round(analysis.faceLuma.mean);
  if (analysis.embedding) report.embedding = analysis.embedding;
  return { report, analysis };
}

export async function runCheck(dir: string, options: CheckOptions): Promise<CheckReport> {
  const root = resolve(dir);
  await ensureDir(root);
  const { files, skipped } = await listFiles(root, options.recursive ?? false);
  // One model worker per core (at most 2) when there is enough work to pay for a second model
  // load; a few photos in flight per worker so sharp decodes the next while faces run.
  const workers = files.length >= 4 ? await warmFaceWorkers(2) : 1;
  const limit = pLimit(options.concurrency ?? workers * 2);
  let done = 0;
  const all = Promise.all(
    files.map((path) =>
      limit(async () => {
        if (options.signal?.aborted) throw new InterruptedError();
        const result = await inspectFile(root, path, options.home);
        options.onProgress?.(++done, files.length, result.report.file);
        return result;
      }),
    ),
  );
  // Ctrl-C or SIGTERM ends the check at once, without waiting for the photos being analysed
  // (nothing is written but the content-addressed cache, whose entries are whole files).
  const analysed = await untilAborted(all, options.signal);
  if (options.signal?.aborted) throw new InterruptedError();

  const entries: SetEntry[] = analysed.map(({ report }) => {
    const entry: SetEntry = { file: report.file, sha256: report.sha256, rejected: verdictOf(report.reasons) === "reject" };
    if (report.sharpness !== undefined) entry.sharpness = report.sharpness;
    if (report.embedding) entry.embedding = report.embedding;
    if (report.dhash) entry.dhash = report.dhash;
    return entry;
  });
  const extra = setReasons(entries);
  const images = analysed.map(({ report }, i) => {
    report.reasons.push(...(extra.get(i) ?? []));
    report.verdict = verdictOf(report.reasons);
    return report;
  });
  const usable = images.filter((r) => r.verdict !== "reject");
  const set = setVerdict(
    images.length,
    usable.map((r) => ({
      closeup: (r.faceFraction ?? 0) >= THRESHOLDS.closeupArea,
      yaw: r.face?.yaw ?? 0,
      pitch: r.face?.pitch ?? 0,
    })),
    images.length - usable.length,
  );
  const similarity = selfSimilarity(usable.flatMap((r) => (r.embedding ? [r.embedding] : [])));
  if (similarity) set.selfSimilarity = similarity;
  for (const image of images) options.onImage?.(image);
  return { dir: root, images, set, ...(skipped.length ? { skipped } : {}) };
}

/** `work`, or InterruptedError as soon as `signal` fires (the work is left to finish unobserved). */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  work.catch(() => undefined);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(new InterruptedError());
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
  }
}
