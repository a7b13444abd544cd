/**
 * Offline face detection (@vladmandic/human) and likeness descriptors (@vladmandic/face-api's
 * dlib ResNet port) on the tfjs WASM backend,
 * run in worker threads (face-worker-source.ts): tfjs-backend-wasm is single-threaded in Node, so
 * a pool of workers is how both cores run the models at once (issue 3's bench), and the main
 * thread stays free to decode the next photo with sharp.
 *
 * - One shared pool per process, started lazily; `loadFaceModel()` waits for the first worker.
 *   `runCheck` asks for more workers (one per core, at most 2) when it has several photos.
 * - Human's settings and where the workers find the packages: face-worker-config.ts.
 */
import { availableParallelism, freemem } from "node:os";
import type { Worker } from "node:worker_threads";
import { DependencyError } from "../errors.js";
import { faceWorkerLimit } from "./face-worker-limit.js";
import { humanConfig, packagePaths, type WorkerPaths } from "./face-worker-config.js";
import { FACE_WORKER_SOURCE } from "./face-worker-source.js";

export interface FaceResult {
  /** [x, y, w, h] in the pixels of the image given to detectFaces. */
  box: [number, number, number, number];
  score: number;
  /** Degrees; 0 when the face mesh could not estimate them. */
  yaw: number;
  pitch: number;
  roll: number;
  /**
   * Likeness descriptor: dlib's ResNet descriptor as ported by @vladmandic/face-api (128 values),
   * unit-normalised; empty when none could be computed. Chosen over Human's faceres by measurement
   * on real photos (test/bench/LIKENESS.md, issue 18).
   */
  embedding: number[];
}

/** An RGB image already in memory: 3 bytes per pixel, row-major. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DetectOptions {
  /** Faces under this detector score are ignored (Human's default 0.2 is too lax for selfies). */
  minScore?: number;
}

/**
 * Where the descriptor's 68 landmarks start from. Default: Human's box (already found for `check`),
 * then twice more on a box derived from the landmarks the way face-api's SSD frames a face
 * (face-worker-source.ts). HEADSHOT_LIKENESS_DETECTOR=ssd runs face-api's SSD MobileNet first
 * instead: as accurate on the real set but about 4x slower per photo (test/bench/LIKENESS.md).
 * For benchmarks, not a tuning knob. Part of the analysis cache key (check-cache.ts).
 */
const LIKENESS_DETECTOR: "ssd" | "human" = process.env.HEADSHOT_LIKENESS_DETECTOR === "ssd" ? "ssd" : "human";
export const FACE_MODEL_ID = `human-3.3.6/blazeface-back+facemesh/face-api-1.7.15-${LIKENESS_DETECTOR}+lm68x3+dlib-resnet/wasm/max10/second-box-0.5`;

const DEFAULT_MIN_SCORE = 0.5;
/**
 * A second face counts only when the detector itself is confident. On a noisy 12 MP selfie
 * BlazeFace proposed a "face" in a helmet ring with detector score 0.34 that the mesh then scored
 * 0.95 (real faces, even small ones on a large canvas or two people side by side, score 0.8+):
 * without this, one person's selfie was rejected as a group shot. The best face is always kept.
 */
const SECONDARY_MIN_BOX_SCORE = 0.5;

interface RawFace {
  box: number[];
  score: number;
  /** The detector's (BlazeFace) own confidence, before the face mesh refines the score. */
  boxScore: number;
  angle: { yaw: number; pitch: number; roll: number } | null;
  /** Human's faceres (kept in the message for debugging; not used for likeness). */
  embedding: number[];
  /** dlib ResNet descriptor from face-api (see face-worker-source.ts). */
  descriptor?: number[];
}
type WorkerMessage =
  | { type: "ready" }
  | { type: "load-error"; message: string }
  | { type: "result"; id: number; faces: RawFace[]; error: string | null };

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  isReady: boolean;
  busy: number;
  pending: Map<number, { resolve: (faces: RawFace[]) => void; reject: (error: Error) => void }>;
}

/** Worker threads running Human; jobs go to the least busy one. */
class FacePool {
  private readonly slots: Slot[] = [];
  private nextId = 1;

  constructor(private readonly paths: WorkerPaths, readonly maxWorkers: number /* face-worker-limit.ts */) {}

  get size(): number {
    return this.slots.length;
  }

  /**
   * Starts workers one after the other: two tfjs-backend-wasm instances initialising at the same
   * moment hung forever on this machine (checked by running). Resolves when the first is ready;
   * the others come up in the background and take jobs as soon as they are.
   */
  async ensure(count: number): Promise<void> {
    const { Worker } = await import("node:worker_threads");
    if (!this.slots.length) this.slots.push(this.spawn(Worker));
    const first = this.slots[0]!.ready;
    this.growing ??= (async () => {
      await first;
      while (this.slots.length < this.target) {
        const slot = this.spawn(Worker);
        this.slots.push(slot);
        await slot.ready.catch(() => undefined);
      }
      this.growing = undefined;
    })();
    this.target = Math.max(this.target, Math.min(count, this.maxWorkers));
    await first;
  }

  private target = 1;
  private growing: Promise<void> | undefined;

  private spawn(WorkerClass: typeof Worker): Slot {
    const worker = new WorkerClass(FACE_WORKER_SOURCE, {
      eval: true,
      // The source is CommonJS: do not inherit flags such as --input-type=module from the parent.
      execArgv: [],
      workerData: { ...this.paths, config: humanConfig(this.paths), likenessDetector: LIKENESS_DETECTOR },
    });
    const slot: Slot = { worker, busy: 0, pending: new Map(), ready: Promise.resolve(), isReady: false };
    slot.ready = new Promise<void>((resolve, reject) => {
      worker.on("message", (m: WorkerMessage) => {
        if (m.type === "ready") {
          slot.isReady = true;
          if (slot.busy === 0) worker.unref(); // an idle pool never keeps the process alive
          return resolve();
        }
        if (m.type === "load-error") {
          return reject(
            new DependencyError("Could not load the face models from the installed @vladmandic/human package.", {
              hint: "Reinstall headshot; the models ship inside the npm package and need no network.",
              details: [m.message],
            }),
          );
        }
        const job = slot.pending.get(m.id);
        if (!job) return;
        slot.pending.delete(m.id);
        if (--slot.busy === 0) worker.unref();
        if (m.error) job.reject(new Error(`face detection failed: ${m.error}`));
        else job.resolve(m.faces);
      });
      const fail = (error: Error): void => {
        slot.isReady = false;
        reject(error);
        for (const job of slot.pending.values()) job.reject(error);
        slot.pending.clear();
      };
      worker.on("error", fail);
      worker.on("exit", (code) => fail(new Error(`the face model worker stopped (exit ${code})`)));
    });
    slot.ready.catch(() => undefined);
    // Stays referenced while the models load (someone is waiting for them), unref'd when idle.
    return slot;
  }

  async detect(image: RgbImage): Promise<RawFace[]> {
    if (!this.slots.length) await this.ensure(1);
    await this.slots[0]!.ready;
    const ready = this.slots.filter((s) => s.isReady);
    const slot = ready.reduce((a, b) => (b.busy < a.busy ? b : a));
    // Jobs queue on every worker (gen's score queue asks for none up front): grow as warmFaceWorkers would.
    if (slot.busy > 0 && this.target < this.maxWorkers) this.ensure(this.target + 1).catch(() => undefined);
    const id = this.nextId++;
    const data = image.data.slice(); // our own buffer: transferred without detaching the caller's
    return new Promise<RawFace[]>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ id, data: data.buffer, width: image.width, height: image.height }, [data.buffer]);
    });
  }

  async close(): Promise<void> {
    this.target = 0;
    await this.growing?.catch(() => undefined);
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }
}

let pool: FacePool | undefined;

function sharedPool(): FacePool {
  pool ??= new FacePool(packagePaths(), faceWorkerLimit(process.env, { cores: availableParallelism(), freeBytes: freemem() }));
  return pool;
}

/** Loads the face models once per process (lazy, shared): resolves when a worker is ready. */
export async function loadFaceModel(): Promise<void> {
  await sharedPool().ensure(1);
}

/** Starts up to `count` model workers (capped by faceWorkerLimit); returns how many will run. */
export async function warmFaceWorkers(count: number): Promise<number> {
  const wanted = Math.max(1, Math.min(count, sharedPool().maxWorkers));
  await sharedPool().ensure(wanted);
  return wanted;
}

/** Stops the model workers (tests, or a long-lived process that is done with faces). */
export async function closeFaceModel(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.close();
}

function toDegrees(radians: number | undefined): number {
  return radians === undefined || !Number.isFinite(radians) ? 0 : (radians * 180) / Math.PI;
}

export function normalise(vector: ArrayLike<number>): number[] {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] ?? 0) ** 2;
  const norm = Math.sqrt(sum) || 1;
  return Array.from(vector, (v) => v / norm);
}

/** Cosine similarity of two vectors (1 = same direction). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

function overlap(a: [number, number, number, number], b: [number, number, number, number]): number {
  const x = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const y = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  return (x * y) / Math.max(1, Math.min(a[2] * a[3], b[2] * b[3]));
}

/**
 * BlazeFace sometimes returns the same small face twice with shifted boxes (seen on a 120 px face
 * on a 2400 px canvas, overlapping by 32% of the smaller box); boxes overlapping by more than a
 * quarter are the same face, keep the higher score. Two people side by side do not overlap.
 */
export function dedupeFaces(faces: FaceResult[]): FaceResult[] {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const kept: FaceResult[] = [];
  for (const face of sorted) if (!kept.some((k) => overlap(k.box, face.box) > 0.25)) kept.push(face);
  return kept;
}

async function decodeForDetection(input: string | Uint8Array): Promise<RgbImage> {
  const { default: sharp } = await import("sharp");
  const { data, info } = await sharp(input, { limitInputPixels: 120_000_000 })
    .rotate()
    .resize({ width: 1024, height: 1024, fit: "inside", withoutEnlargement: true })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/**
 * Finds faces, highest score first. A path or encoded bytes are decoded with EXIF orientation
 * applied and scaled to at most 1024 px (boxes are then in that scaled image's pixels: pass an
 * RgbImage to control the scale).
 */
export async function detectFaces(input: string | Uint8Array | RgbImage, options: DetectOptions = {}): Promise<FaceResult[]> {
  const image = typeof input === "string" || input instanceof Uint8Array ? await decodeForDetection(input) : input;
  const raw = await sharedPool().detect(image);
  const minScore = options.minScore ?? DEFAULT_MIN_SCORE;
  const best = Math.max(...raw.map((f) => f.score), 0);
  const faces = raw
    .filter((f) => f.score >= minScore)
    .filter((f) => f.score === best || (f.boxScore ?? f.score) >= SECONDARY_MIN_BOX_SCORE)
    .map((f) => ({
      box: f.box.slice(0, 4).map((v) => Math.round(v)) as [number, number, number, number],
      score: f.score,
      yaw: toDegrees(f.angle?.yaw),
      pitch: toDegrees(f.angle?.pitch),
      roll: toDegrees(f.angle?.roll),
      embedding: f.descriptor?.length ? normalise(f.descriptor) : [],
    }));
  return dedupeFaces(faces);
}
