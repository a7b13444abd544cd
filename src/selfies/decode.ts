/**
 * Turns a file into an oriented image sharp can work on, or a reason it cannot.
 *
 * - The container is recognised from its first bytes, not the file name.
 * - Headers are read before any pixel is decoded, so a 50000x50000 "pixel bomb" is refused in
 *   milliseconds without allocating its pixels (MAX_PIXELS, plus sharp's limitInputPixels).
 * - EXIF orientation is applied first (ai-toolkit applies `exif_transpose` when it loads training images: ostris/ai-toolkit toolkit/data_loader.py, so must we).
 * - iPhone HEIC (HEVC in HEIF): sharp's prebuilt binaries only decode AVIF (libvips is built without HEVC), so HEIC goes through heic-decode (libheif compiled to WASM). libheif applies the HEIF
 *   rotation/mirror properties itself, so no EXIF rotation is added on top.
 */
import type { Sharp, default as SharpDefault } from "sharp";

/** 120 MP: more than any phone's full-resolution JPEG (48 MP sensors), far less than a bomb. */
export const MAX_PIXELS = 120_000_000;

export type SniffedFormat = "jpeg" | "png" | "webp" | "gif" | "tiff" | "avif" | "heic" | "heif" | "unknown";

const HEIC_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"]);
const AVIF_BRANDS = new Set(["avif", "avis"]);

/** Recognises an image container from its magic bytes. */
export function sniffFormat(bytes: Uint8Array): SniffedFormat {
  const b = (i: number): number => bytes[i] ?? -1;
  const ascii = (from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return "jpeg";
  if (b(0) === 0x89 && ascii(1, 4) === "PNG") return "png";
  if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  if (ascii(0, 4) === "GIF8") return "gif";
  if ((b(0) === 0x49 && b(1) === 0x49 && b(2) === 0x2a) || (b(0) === 0x4d && b(1) === 0x4d && b(3) === 0x2a)) return "tiff";
  if (bytes.length >= 12 && ascii(4, 8) === "ftyp") {
    const size = Math.min(bytes.length, ((b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3)) >>> 0);
    const brands = [ascii(8, 12)];
    for (let i = 16; i + 4 <= size; i += 4) brands.push(ascii(i, i + 4));
    if (brands.some((x) => AVIF_BRANDS.has(x))) return "avif";
    if (brands.some((x) => HEIC_BRANDS.has(x))) return "heic";
    if (brands.includes("mif1") || brands.includes("msf1")) return "heif";
  }
  return "unknown";
}

export class DecodeFailure extends Error {
  constructor(
    readonly code: "empty_file" | "not_an_image" | "unreadable" | "too_many_pixels",
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

export interface OpenedImage {
  format: SniffedFormat;
  /** Size after orientation. */
  width: number;
  height: number;
  /** A fresh sharp pipeline over the oriented pixels (call once per output). */
  pipeline(): Sharp;
}

type SharpFactory = typeof SharpDefault;

async function loadSharp(): Promise<SharpFactory> {
  const mod = await import("sharp");
  return mod.default;
}

/**
 * heic-decode runs in a worker thread: libheif-js prints its failures with console.log, which
 * would corrupt `--json` stdout, so the worker's stdout is captured and dropped. It also keeps the
 * WASM decode off the thread that runs the face models.
 */
const HEIC_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const decode = require(workerData.modulePath);
decode({ buffer: workerData.bytes }).then(
  (r) => parentPort.postMessage({ width: r.width, height: r.height, data: r.data }, [r.data.buffer]),
  (e) => parentPort.postMessage({ error: String(e && e.message || e) }),
);
`;

interface HeicResult {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

async function decodeHeicIsolated(bytes: Uint8Array): Promise<HeicResult> {
  const { Worker } = await import("node:worker_threads");
  const { createRequire } = await import("node:module");
  const modulePath = createRequire(import.meta.url).resolve("heic-decode");
  const worker = new Worker(HEIC_WORKER, { eval: true, execArgv: [], stdout: true, stderr: true, workerData: { modulePath, bytes } });
  worker.stdout.resume();
  worker.stderr.resume();
  try {
    return await new Promise<HeicResult>((resolvePromise, reject) => {
      worker.once("message", (m: HeicResult | { error: string }) => ("error" in m ? reject(new Error(m.error)) : resolvePromise(m)));
      worker.once("error", reject);
      worker.once("exit", (code) => reject(new Error(`the HEIC decoder stopped (exit ${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}

async function openHeic(bytes: Uint8Array, sharp: SharpFactory): Promise<OpenedImage> {
  let decoded: HeicResult;
  try {
    decoded = await decodeHeicIsolated(bytes);
  } catch (error) {
    throw new DecodeFailure(
      "unreadable",
      `This HEIC/HEIF file could not be decoded (${error instanceof Error ? error.message : String(error)}).`,
      "Export it from Photos as JPEG (File > Export, or set Camera > Formats > Most Compatible on the iPhone).",
    );
  }
  if (decoded.width * decoded.height > MAX_PIXELS) throw tooManyPixels(decoded.width, decoded.height);
  const raw = Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength);
  const { width, height } = decoded;
  return {
    format: "heic",
    width,
    height,
    pipeline: () => sharp(raw, { raw: { width, height, channels: 4 } }),
  };
}

function tooManyPixels(width: number, height: number): DecodeFailure {
  return new DecodeFailure(
    "too_many_pixels",
    `The image claims ${width}x${height} pixels (${Math.round((width * height) / 1e6)} MP); headshot refuses anything over ${MAX_PIXELS / 1e6} MP.`,
    "Use the camera's original photo or export it at a normal size (12-48 MP).",
  );
}

/** Reads headers and prepares an oriented pipeline; throws DecodeFailure with a person-readable reason. */
export async function openImage(bytes: Uint8Array): Promise<OpenedImage> {
  if (bytes.length === 0) {
    throw new DecodeFailure("empty_file", "The file is empty (0 bytes).", "Copy the photo again from your phone; the transfer did not finish.");
  }
  const format = sniffFormat(bytes);
  if (format === "unknown") {
    throw new DecodeFailure("not_an_image", "This is not an image headshot can read.", "Remove it from the folder, or export it as JPEG.");
  }
  const sharp = await loadSharp();
  if (format === "heic") return openHeic(bytes, sharp);
  let meta: Awaited<ReturnType<Sharp["metadata"]>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (error) {
    if (format === "heif") return openHeic(bytes, sharp);
    throw unreadable(error);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > MAX_PIXELS) throw tooManyPixels(width, height);
  const swap = (meta.orientation ?? 1) >= 5;
  // "truncated" fails on cut-short files without tripping on the harmless warnings phone JPEGs carry.
  const options = { limitInputPixels: MAX_PIXELS, failOn: "truncated" as const, pages: 1 };
  return {
    format,
    width: swap ? height : width,
    height: swap ? width : height,
    pipeline: () => sharp(bytes, options).rotate(),
  };
}

/** Runs a decode and reports a failure as "unreadable" (truncated or corrupt pixel data). */
export async function decoding<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw error instanceof DecodeFailure ? error : unreadable(error);
  }
}

function unreadable(error: unknown): DecodeFailure {
  const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new DecodeFailure(
    "unreadable",
    `The image is damaged or cut short and cannot be decoded (${detail}).`,
    "Copy the original photo again from your phone or cloud backup.",
  );
}
