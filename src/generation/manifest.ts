/**
 * `<out>/manifest.json`: the record of a batch, written atomically (temp + fsync + rename) every
 * time an image changes state, so a run killed at any moment can be resumed without losing or
 * paying twice for anything (house style: persist remote ids before waiting; GUIDE "Processes
 * and the network").
 *
 * Each image (keyed by the plan's `key`) moves through:
 *   planned -> creating (create about to be sent) -> created (prediction id known, BEFORE waiting)
 *           -> downloaded (raw output complete on disk) -> done (final file + sidecar written)
 *   or -> failed | filtered (NSFW) after its last attempt.
 * `creating` exists because Replicate only tells the id in the create answer: a run killed while
 * that request was in flight looks for the prediction by its exact inputs instead of paying again.
 * After a crash, manifest-repair.ts brings the record in line with the files on disk.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_SCHEMA_VERSION = 1;
/** Raw backend outputs wait here until their final file is written. */
export const RAW_DIR = ".headshot-raw";
/**
 * Images `gen --keep-best` does not keep move here with their sidecars (src/curation/rejected.ts);
 * `score` and a resumed run look for them here too.
 */
export const REJECTED_DIR = "rejected";

export const IMAGE_STATES = ["planned", "creating", "created", "downloaded", "done", "failed", "filtered"] as const;
export type ImageState = (typeof IMAGE_STATES)[number];

const attemptSchema = z.object({
  n: z.number().int().positive(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  remoteId: z.string().optional(),
  outcome: z.string().optional(),
  code: z.string().optional(),
  error: z.string().optional(),
});

const entrySchema = z.object({
  key: z.string(),
  index: z.number().int().positive(),
  variation: z.string(),
  axes: z.record(z.string(), z.string()),
  status: z.enum(IMAGE_STATES),
  prompt: z.string(),
  seed: z.number().int(),
  model: z.string(),
  modelRef: z.string().optional(),
  version: z.string().optional(),
  inputs: z.record(z.string(), z.unknown()),
  predictionId: z.string().optional(),
  webUrl: z.string().optional(),
  /** Set with `creating`: when the create was sent (the recovery search starts there). */
  creatingSince: z.string().optional(),
  attempts: z.array(attemptSchema),
  raw: z.object({ path: z.string(), sha256: z.string(), contentType: z.string() }).optional(),
  /** Final image, relative to the output folder. */
  file: z.string().optional(),
  sidecar: z.string().optional(),
  sha256: z.string().optional(),
  bytes: z.number().int().optional(),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  format: z.string().optional(),
  timing: z.object({
    startedAt: z.string().optional(),
    createdAt: z.string().optional(),
    completedAt: z.string().optional(),
    downloadedAt: z.string().optional(),
    doneAt: z.string().optional(),
    predictSeconds: z.number().optional(),
    seconds: z.number().optional(),
  }),
  costUsd: z.number(),
  costSource: z.enum(["price-table", "metrics", "free"]).optional(),
  placeholder: z.boolean().optional(),
  /** Test backend previews of a known person: what was drawn (src/generation/rehearsal/). */
  rehearsal: z.looseObject({ plant: z.string(), from: z.string(), note: z.string(), source: z.string() }).optional(),
  error: z.object({ code: z.string(), message: z.string(), kind: z.string() }).optional(),
  /** Likeness and quality (src/scoring/similarity.ts ScoreRecord), kept loose so newer fields survive. */
  score: z.looseObject({}).optional(),
  /** Kept by --keep-best / --min-similarity / --until; false: moved to rejected/ (`file` says so). */
  kept: z.boolean().optional(),
  rejectedReason: z.string().optional(),
  /** Face-aware crops of a kept image (--crops), files relative to the output folder. */
  crops: z.array(z.looseObject({ name: z.string(), file: z.string() })).optional(),
});

const referenceSchema = z.object({
  file: z.string(),
  sha256: z.string(),
  url: z.string(),
  expiresAt: z.string().nullable().optional(),
  reason: z.string().optional(),
});

export const manifestSchema = z.object({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  tool: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  batch: z.object({
    preset: z.object({ name: z.string(), hash: z.string() }),
    identity: z.object({ name: z.string(), trigger: z.string(), classWord: z.string() }).nullable(),
    backend: z.string(),
    model: z.string(),
    modelRef: z.string(),
    seedBase: z.number().int(),
    count: z.number().int(),
    format: z.string(),
    placeholder: z.boolean(),
    references: z.array(referenceSchema).optional(),
    /** One line per run of this batch: where a resume starts looking for lost creates. */
    runs: z.array(z.object({ startedAt: z.string(), tool: z.string() })).optional(),
  }),
  images: z.record(z.string(), entrySchema),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestEntry = z.infer<typeof entrySchema>;
export type ManifestReference = z.infer<typeof referenceSchema>;

/** Reads and validates `<out>/manifest.json`; undefined when there is none. */
export async function readManifest(outDir: string): Promise<Manifest | undefined> {
  const path = join(outDir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  const hint = `move ${path} away to start this batch over, or pass --out with another folder`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON`, { code: "E_MANIFEST_CORRUPT", cause: error, hint });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(`${path} is not a headshot manifest this version can read`, {
      code: "E_MANIFEST_CORRUPT",
      details: parsed.error.issues.slice(0, 10).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
      hint,
    });
  }
  return parsed.data;
}

/**
 * The in-memory manifest plus its file. Changes apply in memory at once; `commit()` resolves when a
 * write that includes them is on disk. Writes are serialised and coalesced: while one is in flight,
 * every change made meanwhile goes into the single next write, so a batch of hundreds of images
 * costs a few hundred small writes, not one per change per image.
 */
export class ManifestStore {
  private chain: Promise<void> = Promise.resolve();
  private next: Promise<void> | undefined;
  private deferredError: unknown;
  readonly path: string;

  private lastWriteAt = 0;

  /**
   * `minIntervalMs`: a write starts at least this long after the previous one started, so a busy
   * batch writes a few times a second instead of once per change (each write is the whole file).
   */
  constructor(
    readonly outDir: string,
    readonly data: Manifest,
    private readonly now: () => Date = () => new Date(),
    private readonly minIntervalMs = 0,
  ) {
    this.path = join(outDir, MANIFEST_FILE);
  }

  entry(key: string): ManifestEntry | undefined {
    return this.data.images[key];
  }

  /** Applies `change` to an entry and resolves once it is durably on disk. */
  update(key: string, change: (entry: ManifestEntry) => void): Promise<void> {
    const entry = this.data.images[key];
    if (!entry) throw new Error(`manifest has no image ${key}`);
    change(entry);
    return this.commit();
  }

  /**
   * Applies `change` now and schedules a write without waiting for it: for states a kill may lose
   * safely (the state before it is enough to resume without paying again). A failure of that write
   * is thrown by the next awaited commit.
   */
  touch(key: string, change: (entry: ManifestEntry) => void): void {
    const entry = this.data.images[key];
    if (!entry) throw new Error(`manifest has no image ${key}`);
    change(entry);
    this.commit().catch((error: unknown) => {
      this.deferredError ??= error;
    });
  }

  commit(): Promise<void> {
    if (this.deferredError !== undefined) {
      const error = this.deferredError;
      this.deferredError = undefined;
      return Promise.reject(error);
    }
    if (this.next) return this.next;
    const write = this.chain.then(async () => {
      const wait = this.lastWriteAt + this.minIntervalMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      this.lastWriteAt = Date.now();
      this.next = undefined;
      this.data.updatedAt = this.now().toISOString();
      await writeFileAtomic(this.path, `${JSON.stringify(this.data, null, 2)}\n`);
    });
    this.next = write;
    this.chain = write.catch(() => undefined);
    return write;
  }
}
