/**
 * The one interface a face-pass backend implements (house style: one small interface per kind of
 * backend). A backend turns one face region (a PNG at working resolution, plus its mask) into a
 * repainted PNG of the same size; the runner does the cropping, blending, scoring and manifest.
 */
import type { ImageToImageJob, RemoteRef } from "../../generation/generator.js";

export interface FacePassRequest {
  /** `<file>#<face index>`: stable across runs. */
  key: string;
  /** The face region scaled to the working size (PNG on disk). */
  imagePath: string;
  /** Same size; white = repaint, black = keep (flux-fine-tuner predict.py `mask`). */
  maskPath: string;
  prompt: string;
  seed: number;
  /** 0..1: how much of the region the model may redraw (flux-fine-tuner `prompt_strength`). */
  strength: number;
  /** Side of the square working image, pixels. */
  side: number;
  /** Sampler of the face pass (plan.ts PolishSettings: the preset's, or the documented defaults). */
  steps: number;
  guidance: number;
  loraScale: number;
  /** Raw output goes to `<rawDir>/<rawName>.<ext>` (atomically). */
  rawDir: string;
  rawName: string;
  /** A remote job an earlier run created (recorded in the manifest): re-attach, never pay again. */
  resume?: { remoteId: string } | undefined;
  /** Files an earlier run uploaded for this face: reused so the inputs are the same. */
  uploads?: { image: string; mask: string } | undefined;
}

export interface FacePassCallbacks {
  signal: AbortSignal;
  /** Awaited: the runner records the uploaded URLs before anything is created. */
  onUploaded?: (uploads: { image: string; mask: string }) => Promise<void>;
  /** Awaited right before a paid create is sent (manifest: "creating", with the exact inputs). */
  onCreating?: (inputs: Record<string, unknown>) => Promise<void>;
  /** Awaited as soon as the remote job exists and before waiting for it. */
  onCreated?: (remote: RemoteRef) => Promise<void>;
}

export interface FacePassResult {
  /** The repainted region on disk. */
  path: string;
  remote?: RemoteRef | undefined;
  /** The inputs sent (files as URLs), for the manifest. */
  inputs: Record<string, unknown>;
  costUsd: number;
  costSource: "price-table" | "free";
  /** The test backend's rehearsal output: never a real repaint. */
  placeholder: boolean;
}

export interface FacePassBackend {
  /** `test`, `replicate`, `local`. */
  readonly id: string;
  /** The model that repaints (`owner/name:version`, `test`, a local base model). */
  readonly modelRef: string;
  readonly placeholder: boolean;
  /** Estimated dollars and seconds per face (dry run, ETA). */
  readonly priceUsd: number;
  readonly secondsPerFace: number;
  /** The inputs that would be sent (files shown as their local paths): --dry-run and the manifest. */
  describe(request: FacePassRequest): Record<string, unknown>;
  /** One-off work before the first face (schema check, model load). */
  prepare?(signal: AbortSignal): Promise<void>;
  run(request: FacePassRequest, callbacks: FacePassCallbacks): Promise<FacePassResult>;
  /** Remote jobs a killed run created without recording them, found by their exact inputs. */
  recover?(request: { since: string; candidates: ReadonlyArray<{ key: string; inputs: Record<string, unknown>; knownIds: string[] }>; signal: AbortSignal }): Promise<Map<string, RemoteRef>>;
  /**
   * Ctrl-C with a job still in flight: cancel it if it is only queued (nothing billed yet), else
   * leave it running for the re-run to collect (gen's rule, src/generation/backends/replicate.ts).
   */
  onInterrupt?(remoteId: string): Promise<"cancelled" | "left-running">;
  close(): Promise<void>;
}

/** The generation backend's image-to-image job for a face, its files given as paths or URLs. */
export function faceJob(request: FacePassRequest, files: { image: string; mask: string }, loraWeights?: string): ImageToImageJob {
  return {
    key: request.key,
    image: files.image,
    mask: files.mask,
    strength: request.strength,
    prompt: request.prompt,
    seed: request.seed,
    width: request.side,
    height: request.side,
    steps: request.steps,
    guidance: request.guidance,
    lora: { scale: request.loraScale, ...(loraWeights ? { weights: loraWeights } : {}) },
    rawDir: request.rawDir,
    rawName: request.rawName,
    resume: request.resume,
  };
}
