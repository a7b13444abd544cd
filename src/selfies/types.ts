/**
 * The shapes `headshot check` produces and `train` / identity scoring consume. This is a
 * contract with other parts of headshot: fields may be added, never renamed.
 */

export type Verdict = "ok" | "warn" | "reject";

export interface Reason {
  /** Stable machine code, e.g. "no_face", "blurry" (listed in rules.ts and the README). */
  code: string;
  /** What is wrong, in words a person understands. */
  message: string;
  /** What to do about it. */
  fix: string;
  severity: "warn" | "reject";
}

export interface FaceSummary {
  /** [x, y, w, h] in oriented source pixels (after EXIF orientation). */
  box: [number, number, number, number];
  score: number;
  /** Head angles in degrees (Human's mesh estimate; 0 = facing the camera). */
  yaw: number;
  pitch: number;
  roll: number;
}

export interface ImageReport {
  /** Path relative to the checked folder, with "/" separators. */
  file: string;
  /** Absolute path. */
  path: string;
  /** sha256 of the file's bytes (hex); empty for files that could not be read. */
  sha256: string;
  verdict: Verdict;
  reasons: Reason[];
  /** Oriented size in pixels. */
  width?: number;
  height?: number;
  /** Detected container format (jpeg, png, webp, heif, heic, tiff, gif, ...). */
  format?: string;
  /** The main face (the only one when the image is usable). */
  face?: FaceSummary;
  /** How many faces were found. */
  faceCount?: number;
  /** Variance of the Laplacian on the face at a fixed 256 px scale (see rules.ts). */
  sharpness?: number;
  /** Mean luma (0-255) of the face region. */
  brightness?: number;
  /** Face box area / frame area. */
  faceFraction?: number;
  /** 64-bit difference hash of the whole frame, hex. */
  dhash?: string;
  /** faceres descriptor, 1024 values, unit-normalised. */
  embedding?: number[];
}

export interface SelfSimilarity {
  mean: number;
  min: number;
  p10: number;
  count: number;
}

export interface SetVerdict {
  verdict: Verdict;
  usable: number;
  total: number;
  /** Plain-language advice: what to add or remove. */
  advice: string[];
  closeups?: number;
  wide?: number;
  /** Pairwise cosine among usable faces, used later for identity scoring. */
  selfSimilarity?: SelfSimilarity;
}

/** A folder entry that is not a photo file at all (a FIFO, a device, a link to a folder): never read. */
export interface SkippedEntry {
  file: string;
  path: string;
  /** What it is, in words: "a link to a folder", "a named pipe (FIFO)", … */
  reason: string;
}

export interface CheckReport {
  dir: string;
  images: ImageReport[];
  set: SetVerdict;
  /** Entries that were not read, with the reason (issue 14, R1/R8). */
  skipped?: SkippedEntry[];
}

export interface PreparedImage {
  /** File name inside `dir`. */
  file: string;
  caption: string;
  /** The source image, relative to the checked folder. */
  source: string;
  /** sha256 of the written image bytes. */
  sha256: string;
  kind: "closeup" | "wide";
  /** The face box inside the written 1024x1024 image, [x, y, w, h]. */
  faceBox: [number, number, number, number];
}

export interface PreparedSet {
  /** The training folder: only images and their same-named .txt captions (ai-toolkit folder_path). */
  dir: string;
  /** The output root that holds `dir`, report.json and contact-sheet.png. */
  root: string;
  images: PreparedImage[];
  /** sha256 over every output image's bytes and caption, in file order. */
  datasetHash: string;
  reportPath: string;
  contactSheetPath: string;
}
