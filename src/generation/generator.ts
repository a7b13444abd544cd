/**
 * The one interface every generation backend implements (house style: backends behind one small
 * interface, their knowledge kept as data in their own file). The batch engine (engine.ts) owns
 * concurrency, retries, the manifest and the final files; a Generator only turns one planned image
 * into raw image bytes on disk and says what it cost.
 *
 * Backends: `backends/test.ts` (placeholders, free), `backends/replicate.ts` (predictions), and the
 * local GPU generator (`local/`), which plugs in through the same interface.
 *
 * Besides a planned image from a preset, a backend can take an image-to-image job (issue 17, the
 * polish face pass): repaint a given picture, under a mask when given, at a strength, with the
 * identity's LoRA. Each backend maps it to its own model's inputs (Replicate: `image`, `mask`,
 * `prompt_strength`; diffusers: the img2img / inpaint pipeline's `image`, `mask_image`, `strength`).
 */
import type { PlannedImage } from "./plan.js";

export interface GenJob {
  image: PlannedImage;
  /** 1-based attempt number for this image across runs (recorded in the manifest). */
  attempt: number;
  /** The model inputs to send (the plan's, with run-time values such as uploaded reference URLs). */
  inputs: Record<string, unknown>;
  /** Where the raw output goes: `<rawDir>/<rawName>.<ext>`, written atomically by the backend. */
  rawDir: string;
  rawName: string;
  /**
   * A remote job created earlier (an earlier run, or this attempt before a download failed):
   * re-attach to it instead of creating (and paying for) another one.
   */
  resume?: { remoteId: string } | undefined;
}

/**
 * Repaint `image` (under `mask` when given) at `strength`: the face detail pass of `headshot polish`.
 * No planned image: the caller (polish) owns the bookkeeping and says what to draw.
 */
export interface ImageToImageJob {
  /** Stable across runs (polish: `<file>#<face index>`); names the local job and test outputs. */
  key: string;
  /** The picture to repaint (PNG): a local path for local/test, its uploaded URL for Replicate. */
  image: string;
  /** Same size, white = repaint, black = keep. Absent: plain img2img over the whole picture. */
  mask?: string | undefined;
  /** 0..1: how much may be redrawn (the last `steps x strength` denoising steps run). */
  strength: number;
  prompt: string;
  seed: number;
  /** The picture's size in pixels (the face region's working side). */
  width: number;
  height: number;
  steps: number;
  guidance: number;
  /** The identity's LoRA: its scale, and its weights URL where the model takes one (flux-dev-lora). */
  lora?: { scale?: number | undefined; weights?: string | undefined } | undefined;
  /** Where the raw output goes: `<rawDir>/<rawName>.<ext>`, written atomically by the backend. */
  rawDir: string;
  rawName: string;
  /** A remote job an earlier run created for this job: re-attach instead of paying again. */
  resume?: { remoteId: string } | undefined;
}

/** What a backend reports while it works on one image. */
export type GenStage = "creating" | "queued" | "processing" | "downloading";

export interface RemoteRef {
  /** Prediction id (or the local job id). */
  id: string;
  /** `owner/name` or `owner/name:version`, or `test`, `local`. */
  modelRef: string;
  version?: string | undefined;
  /** Remote page for a person (https://replicate.com/p/<id>). */
  webUrl?: string | undefined;
}

export interface GenCallbacks {
  signal: AbortSignal;
  /** Called as the job moves on; cheap and synchronous. */
  onStage?: (stage: GenStage, remote?: RemoteRef) => void;
  /**
   * Called as soon as a remote job exists, BEFORE the backend waits for it. The backend awaits it:
   * the engine persists the id in the manifest there, so a killed run can re-attach.
   */
  onCreated?: (remote: RemoteRef) => Promise<void>;
  /**
   * Called (and awaited) once the remote job is over and only local work is left (download,
   * writing): the engine frees the job's concurrency slot so the next image starts meanwhile.
   */
  onRemoteDone?: () => Promise<void>;
  /** Called right before a create is sent, awaited (the manifest records "creating"). */
  onCreating?: () => Promise<void>;
}

export interface GenResult {
  /** The raw output on disk (complete: written through a temp file and renamed). */
  rawPath: string;
  sha256: string;
  contentType: string;
  remote?: RemoteRef | undefined;
  /** Billed GPU seconds when the API says (Replicate `metrics.predict_time`). */
  predictSeconds?: number | undefined;
  /** Dollars for this image, and whether it is the price-table estimate or measured. */
  costUsd: number;
  costSource: "price-table" | "metrics" | "free";
  /** When the remote job finished (Replicate deletes outputs an hour later). */
  completedAt?: string | undefined;
  /** Placeholder images from the test backend: never a real photo. */
  placeholder?: boolean;
  /** Test backend with a known person: what the preview was drawn from (rehearsal/compose.ts). */
  rehearsal?: { plant: string; from: string; note: string; source: string } | undefined;
}

export interface RecoveryCandidate {
  key: string;
  /** The inputs the lost create may have carried (as recorded, and as they would be sent now). */
  inputs: ReadonlyArray<Record<string, unknown>>;
  /** Ids of its earlier attempts (finished): never adopted again. */
  knownIds: ReadonlyArray<string>;
}

export interface Generator {
  /** `test`, `replicate`, `local`. */
  readonly id: string;
  /** True when every image it makes is a placeholder (the test backend). */
  readonly placeholder: boolean;
  /** One-off work before the first job (schema validation, uploads, model load). */
  prepare?(context: { signal: AbortSignal; images: ReadonlyArray<PlannedImage> }): Promise<void>;
  /** The inputs actually sent for an image (run-time values filled in). Default: the plan's. */
  inputsFor?(image: PlannedImage): Record<string, unknown>;
  generate(job: GenJob, callbacks: GenCallbacks): Promise<GenResult>;
  /** The exact inputs an image-to-image job sends, in the model's own names (dry run, manifest, recovery). */
  imageToImageInputs?(job: ImageToImageJob): Record<string, unknown>;
  /** Runs an image-to-image job (same guarantees as generate: onCreating/onCreated before waiting). */
  imageToImage?(job: ImageToImageJob, callbacks: GenCallbacks): Promise<GenResult>;
  /**
   * Finds remote jobs an interrupted run created but never recorded: any job created since
   * `since` whose inputs equal one of a candidate's (and whose id is not already known).
   */
  recover?(request: { since: string; candidates: ReadonlyArray<RecoveryCandidate>; signal: AbortSignal }): Promise<Map<string, RemoteRef>>;
  /** What to do about a remote job still running when the run is interrupted. */
  onInterrupt?(remote: RemoteRef, lastStage: GenStage): Promise<"cancelled" | "left-running">;
  close(): Promise<void>;
}

/**
 * How a failed attempt is classified. The engine retries `transient` with a new attempt (and
 * `download` by re-attaching, never paying twice); the rest end the image.
 */
export type FailureKind =
  /** Worth another attempt: infrastructure errors, throttling, aborted before start. */
  | "transient"
  /** The remote job exists (or succeeded) but waiting for it or fetching its output failed: retry by re-attaching, never by paying again. */
  | "reattach"
  /** The safety checker dropped the image: reported as filtered, never silently. */
  | "filtered"
  /** The outputs were deleted by Replicate's one-hour retention before they were fetched. */
  | "expired"
  /** The model failed on this input, or the prediction was cancelled elsewhere. */
  | "failed"
  /** Nothing else can work either (401, 402, invalid input): stop the whole batch. */
  | "fatal";

export class GenerationFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly options: { code: string; remote?: RemoteRef | undefined; cause?: unknown; hint?: string } = { code: "E_GEN_FAILED" },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "GenerationFailure";
  }
  get code(): string {
    return this.options.code;
  }
}
