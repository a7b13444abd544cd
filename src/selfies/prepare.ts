/**
 * `prepareTrainingSet`: writes the folder ai-toolkit (`folder_path`) and Replicate (zipped) both
 * accept. Layout:
 *
 *   <out>/images/NN-<name>.jpg   1024x1024 face-centred crops, re-encoded with no metadata at all
 *   <out>/images/NN-<name>.txt   caption, always starting "<trigger> <class>"
 *   <out>/report.json            the check report (no absolute paths, no timestamps)
 *   <out>/contact-sheet.png      every input with its verdict and face box
 *
 * The report and contact sheet sit outside images/ so a trainer never mistakes them for training
 * data. The folder is built next to <out> and swapped in at the end, so a crash leaves the old
 * one intact. The same inputs give the same bytes (no timestamps, fixed encoder settings, order by
 * file name).
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { InterruptedError, SelfiesRejectedError, UsageError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { mapLimited } from "../util/map-limited.js";
import { renderContactSheet } from "./contact-sheet.js";
import { CLOSEUP_SPAN, OUTPUT_SIZE, WIDE_SPAN, cropRegion, faceInOutput, pickWide, type Box } from "./crop-geometry.js";
import { decoding, openImage } from "./decode.js";
import type { CheckReport, ImageReport, PreparedImage, PreparedSet } from "./types.js";

export const CLASS_WORDS = ["man", "woman", "person"] as const;
export type ClassWord = (typeof CLASS_WORDS)[number];
export const DEFAULT_TRIGGER = "ohwx";
const REPORT_MARKER = "headshot check";

export interface PrepareOptions {
  trigger: string;
  classWord: string;
  signal?: AbortSignal;
}

/** A trigger must be one token, so the trainer and prompts see the same word. */
export function validateTrigger(trigger: string): void {
  if (!/^[\p{L}\p{N}_-]{2,40}$/u.test(trigger)) {
    throw new UsageError(`The trigger word "${trigger}" must be one word of 2-40 letters, digits, "-" or "_".`, {
      code: "E_TRIGGER",
      hint: `Pass a rare made-up word, e.g. --trigger ${DEFAULT_TRIGGER}`,
    });
  }
}

export function validateClassWord(classWord: string): ClassWord {
  if (!(CLASS_WORDS as readonly string[]).includes(classWord)) {
    throw new UsageError(`--class must be one of ${CLASS_WORDS.join(", ")}, not "${classWord}".`, { code: "E_CLASS", hint: "e.g. --class woman" });
  }
  return classWord as ClassWord;
}

/**
 * The caption for one training image. The trigger and class are enforced here, in code, never left
 * to a captioner: LLM captioners drop them in 25-50% of captions.
 */
export function captionFor(trigger: string, classWord: string, kind: "closeup" | "wide", extra = ""): string {
  const prefix = `${trigger} ${classWord}`;
  const body = kind === "closeup" ? "close-up portrait photo" : "upper body photo";
  const rest = extra.trim();
  const caption = `${prefix}, ${body}${rest ? `, ${rest}` : ""}`;
  return caption.startsWith(`${prefix},`) ? caption : `${prefix}, ${caption}`;
}

function slug(file: string): string {
  const name = basename(file, extname(file))
    .normalize("NFKD")
    .replace(/[^\w-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase();
  return name.slice(0, 48) || "image";
}

async function isOurs(root: string): Promise<boolean> {
  try {
    const report = JSON.parse(await readFile(join(root, "report.json"), "utf8")) as { generator?: string };
    return report.generator === REPORT_MARKER;
  } catch {
    return false;
  }
}

async function checkTarget(root: string): Promise<void> {
  let exists = false;
  try {
    exists = (await stat(root)).isDirectory();
    if (!exists) throw new UsageError(`${root} exists and is a file.`, { code: "E_OUT_DIR", hint: "Pass another --out folder." });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    return;
  }
  if ((await readdir(root)).length === 0 || (await isOurs(root))) return;
  throw new UsageError(`${root} already exists and was not written by headshot; refusing to overwrite it.`, {
    code: "E_OUT_DIR",
    hint: "Pass an empty or new folder with --out, or delete that folder.",
  });
}

/** The report without absolute paths or embeddings, for report.json. */
function publicImage(image: ImageReport): Record<string, unknown> {
  const { path: _path, embedding: _embedding, ...rest } = image;
  return rest;
}

type UsableImage = ImageReport & { face: NonNullable<ImageReport["face"]>; width: number; height: number };

/** One selfie -> a square sRGB JPEG crop (no metadata) and its caption file. */
async function prepareImage(image: UsableImage, index: number, kind: "wide" | "closeup", imagesDir: string, options: PrepareOptions): Promise<PreparedImage> {
  if (options.signal?.aborted) throw new InterruptedError();
  const face = image.face.box as Box;
  const region = cropRegion(face, image.width, image.height, kind === "wide" ? WIDE_SPAN : CLOSEUP_SPAN);
  const opened = await openImage(await readFile(image.path));
  const bytes = await decoding(
    opened
      .pipeline()
      .extract({ left: region.left, top: region.top, width: region.size, height: region.size })
      .resize(OUTPUT_SIZE, OUTPUT_SIZE, { kernel: "lanczos3" })
      .toColourspace("srgb")
      .removeAlpha()
      // No withMetadata(): sharp writes no EXIF, XMP, ICC or GPS unless asked (GPS never leaves).
      .jpeg({ quality: 95, chromaSubsampling: "4:4:4" })
      .toBuffer(),
  );
  const file = `${String(index + 1).padStart(2, "0")}-${slug(image.file)}.jpg`;
  const caption = captionFor(options.trigger, options.classWord, kind);
  await writeFile(join(imagesDir, file), bytes);
  await writeFile(join(imagesDir, file.replace(/\.jpg$/, ".txt")), `${caption}\n`);
  return {
    file,
    caption,
    source: image.file,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    kind,
    faceBox: faceInOutput(face, region),
  };
}

export async function prepareTrainingSet(report: CheckReport, outDir: string, options: PrepareOptions): Promise<PreparedSet> {
  validateTrigger(options.trigger);
  validateClassWord(options.classWord);
  if (report.set.verdict === "reject") {
    throw new SelfiesRejectedError(`The selfie set was rejected: ${report.set.advice[0] ?? "not enough usable photos"}`, {
      hint: "Fix the photos listed by `headshot check`, then run it again.",
    });
  }
  const root = resolve(outDir);
  await checkTarget(root);
  const usable = report.images.filter((i): i is UsableImage => i.verdict !== "reject" && Boolean(i.face && i.width && i.height));
  const wide = pickWide(usable.map((i) => ({ face: i.face.box, width: i.width, height: i.height })));
  const staging = join(dirname(root), `.${basename(root)}.tmp-${randomBytes(4).toString("hex")}`);
  const imagesDir = join(staging, "images");
  await mkdir(imagesDir, { recursive: true });
  try {
    const prepared = await mapLimited(usable, 2, (image, index) => prepareImage(image, index, wide.has(index) ? "wide" : "closeup", imagesDir, options));
    const hash = createHash("sha256");
    for (const p of prepared) hash.update(`${p.file}\0${p.sha256}\0${p.caption}\n`);
    const datasetHash = hash.digest("hex");
    const reportJson = {
      generator: REPORT_MARKER,
      trigger: options.trigger,
      class: options.classWord,
      datasetHash,
      set: report.set,
      images: report.images.map(publicImage),
      prepared,
    };
    await writeFile(join(staging, "report.json"), `${JSON.stringify(reportJson, null, 2)}\n`);
    await writeFileAtomic(join(staging, "contact-sheet.png"), await renderContactSheet(report.images));
    if (options.signal?.aborted) throw new InterruptedError();
    await rm(root, { recursive: true, force: true });
    await rename(staging, root);
    return {
      dir: join(root, "images"),
      root,
      images: prepared,
      datasetHash,
      reportPath: join(root, "report.json"),
      contactSheetPath: join(root, "contact-sheet.png"),
    };
  } catch (error) {
    // The first error is the one to report: a failed clean-up must not replace it.
    await rm(staging, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    throw error;
  }
}
