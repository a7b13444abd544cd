/** The emulator's in-memory world: account, models, jobs, files, delivered outputs, faults. */
import { HARDWARE, seedCatalog, type ModelRecord } from "./catalog.js";
import { defaultFaults, type Faults } from "./faults.js";
import { newHex, newId, seededRandom } from "./http.js";
import type { Job } from "./jobs.js";
import type { Delivered } from "./outputs.js";

export interface EmulatorOptions {
  /** The one valid API token. Default "r8_emulatorToken0123456789abcdefABCDEF". */
  token?: string;
  /** Account of that token. Default {type:"user", username:"jane-doe"}. */
  account?: { type: "user" | "organization"; username: string; name?: string };
  /** Prediction duration from create to terminal (ms). Default 300. */
  latencyMs?: number;
  /** Part of latencyMs spent in `starting`. Default 30%. */
  startingFraction?: number;
  /** Training duration (ms). Default 1500. */
  trainingMs?: number;
  /** How long inputs, outputs and logs are kept (Replicate: one hour). Default 3600000. */
  retentionMs?: number;
  /** Files API limit (Replicate: 100 MiB). */
  maxFileBytes?: number;
  /** Long side of generated images in pixels (kept small for speed). Default 64. */
  imageLongSide?: number;
  /** Milliseconds per second of `Prefer: wait=N` (default 1000; tests may shrink it). */
  preferWaitUnitMs?: number;
  /** Page size of list endpoints (Replicate: 100). */
  pageSize?: number;
  /** Seed of the PRNG behind ids and faults. */
  seed?: number;
  /**
   * Bytes to serve as output `index` of a prediction with these inputs (any format sharp reads;
   * served in the requested output format). Undefined: the default seeded gradient.
   */
  outputImage?: OutputImageFn;
}

export type OutputImageFn = (input: Record<string, unknown>, index: number) => Buffer | undefined;

export interface StoredFile {
  id: string;
  name: string;
  contentType: string;
  bytes: Buffer;
  sha256: string;
  md5: string;
  metadata: Record<string, unknown>;
  createdAt: number;
  expiresAt: number;
}

export const DEFAULT_TOKEN = "r8_emulatorToken0123456789abcdefABCDEF";

export class EmulatorState {
  readonly token: string;
  readonly account: { type: "user" | "organization"; username: string; name?: string };
  readonly random: () => number;
  readonly faults: Faults = defaultFaults();
  readonly models = new Map<string, ModelRecord>();
  readonly jobs = new Map<string, Job>();
  /** Newest last. */
  readonly jobOrder: Job[] = [];
  readonly files = new Map<string, StoredFile>();
  readonly delivered = new Map<string, Delivered>();
  readonly hardware = HARDWARE;
  latencyMs: number;
  startingFraction: number;
  trainingMs: number;
  retentionMs: number;
  readonly maxFileBytes: number;
  readonly imageLongSide: number;
  readonly preferWaitUnitMs: number;
  readonly pageSize: number;
  /** See EmulatorOptions.outputImage; tests may set it at runtime. */
  outputImage: OutputImageFn | undefined;
  /** Set once the server listens: http://127.0.0.1:PORT */
  origin = "";
  private failCounter = 0;

  constructor(options: EmulatorOptions = {}) {
    this.token = options.token ?? DEFAULT_TOKEN;
    this.account = options.account ?? { type: "user", username: "jane-doe", name: "Jane Doe" };
    this.random = seededRandom(options.seed ?? 42);
    this.latencyMs = options.latencyMs ?? 300;
    this.startingFraction = options.startingFraction ?? 0.3;
    this.trainingMs = options.trainingMs ?? 1500;
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.maxFileBytes = options.maxFileBytes ?? 100 * 1024 * 1024;
    this.imageLongSide = options.imageLongSide ?? 64;
    this.preferWaitUnitMs = options.preferWaitUnitMs ?? 1000;
    this.pageSize = options.pageSize ?? 100;
    this.outputImage = options.outputImage;
    for (const model of seedCatalog(Date.now())) this.models.set(`${model.owner}/${model.name}`, model);
  }

  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  now(): number {
    return Date.now();
  }

  chance(p: number): boolean {
    return p > 0 && this.random() < p;
  }

  newId(): string {
    return newId(this.random);
  }

  newHex(length = 64): string {
    return newHex(this.random, length);
  }

  /** 500, 502, 503 in turn, so tests see the whole 5xx family. */
  nextServerErrorStatus(): number {
    return [503, 502, 500][this.failCounter++ % 3] ?? 503;
  }

  /** Finds a version by 64-hex id across all models. */
  findVersion(id: string): { model: ModelRecord; version: ModelRecord["versions"][number] } | undefined {
    for (const model of this.models.values()) {
      const version = model.versions.find((v) => v.id === id);
      if (version) return { model, version };
    }
    return undefined;
  }
}
