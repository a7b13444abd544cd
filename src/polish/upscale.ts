/**
 * Upscale to print size after the face pass. Two kinds, named for what they are:
 * - `replicate`: nightmareai/real-esrgan, a real super-resolution model (Real-ESRGAN x4plus,
 *   github.com/xinntao/Real-ESRGAN); inputs `image`, `scale` (0-10, default 4), `face_enhance`
 *   (GFPGAN, off: it would repaint the face we just polished); output one URI. The schema is derived
 *   from the model's cog predict.py by cog's rules (github.com/NightmareAI/Real-ESRGAN branch cog,
 *   predict.py; github.com/replicate/cog python/cog/predictor.py) and recorded with its provenance in
 *   test/fixtures/replicate/models/nightmareai__real-esrgan.json.
 * - `resize`: offline and free, NOT AI: Lanczos-3 resampling then a mild unsharp mask (sharp's
 *   `resize` + `sharpen`, https://sharp.pixelplumbing.com/api-operation#sharpen). It adds no detail;
 *   it only makes the file larger without the softness of a plain resize.
 */
import { join } from "node:path";
import { InterruptedError } from "../errors.js";
import type { RemoteRef } from "../generation/generator.js";
import { ReplicateGenerator } from "../generation/backends/replicate.js";
import type { ReplicateSession } from "../replicate/client.js";
import { uploadFile } from "../replicate/files.js";
import { writeFileAtomic } from "../util/atomic-write.js";

export const REAL_ESRGAN = "nightmareai/real-esrgan";
/** The version read for the fixture (see its `read_at`); a newer one is used if the model moves on. */
export const REAL_ESRGAN_VERSION = "f121d640bd286e1fdc67f9799164c1d5be36ff74576ee11c803ae5b665dd46aa";
/** Estimate: about $0.002 a run on a T4 (replicate.com/nightmareai/real-esrgan, unverified). */
export const REAL_ESRGAN_PRICE_USD = 0.002;

export type UpscaleKind = "resize" | "replicate";

export interface UpscaleRequest {
  key: string;
  /** PNG to enlarge. */
  inputPath: string;
  scale: number;
  rawDir: string;
  rawName: string;
  resume?: { remoteId: string } | undefined;
  upload?: string | undefined;
}

export interface UpscaleCallbacks {
  signal: AbortSignal;
  onUploaded?: (url: string) => Promise<void>;
  onCreating?: (inputs: Record<string, unknown>) => Promise<void>;
  onCreated?: (remote: RemoteRef) => Promise<void>;
}

export interface Upscaler {
  readonly kind: UpscaleKind;
  /** What it is, in words for the summary and manifest. */
  readonly label: string;
  readonly priceUsd: number;
  run(request: UpscaleRequest, callbacks: UpscaleCallbacks): Promise<{ path: string; remote?: RemoteRef | undefined; inputs?: Record<string, unknown>; costUsd: number }>;
  /** Remote jobs a killed run created without recording them, found by their exact inputs. */
  recover?(request: { since: string; candidates: ReadonlyArray<{ key: string; inputs: Record<string, unknown>; knownIds: string[] }>; signal: AbortSignal }): Promise<Map<string, RemoteRef>>;
}

export class ResizeUpscaler implements Upscaler {
  readonly kind = "resize";
  readonly label = "Lanczos-3 resize + unsharp mask (not AI)";
  readonly priceUsd = 0;

  async run(request: UpscaleRequest, callbacks: UpscaleCallbacks): Promise<{ path: string; costUsd: number }> {
    const { default: sharp } = await import("sharp");
    const meta = await sharp(request.inputPath).metadata();
    const width = Math.round((meta.width ?? 0) * request.scale);
    const bytes = await sharp(request.inputPath)
      .resize({ width, kernel: "lanczos3" })
      // sigma about 1 px at the new size, gentle on flat areas (m1) and stronger on edges (m2).
      .sharpen({ sigma: 0.8, m1: 0.5, m2: 2 })
      .png({ compressionLevel: 6 })
      .toBuffer();
    if (callbacks.signal.aborted) throw new InterruptedError();
    const path = join(request.rawDir, `${request.rawName}.png`);
    await writeFileAtomic(path, bytes);
    return { path, costUsd: 0 };
  }
}

export class ReplicateUpscaler implements Upscaler {
  readonly kind = "replicate";
  readonly label = `${REAL_ESRGAN} (Real-ESRGAN super-resolution)`;
  readonly priceUsd = REAL_ESRGAN_PRICE_USD;
  private readonly generator: ReplicateGenerator;

  constructor(private readonly session: ReplicateSession, version = REAL_ESRGAN_VERSION) {
    this.generator = new ReplicateGenerator({ session, target: { version: `${REAL_ESRGAN}:${version}` }, model: "trained-version", priceUsd: REAL_ESRGAN_PRICE_USD });
  }

  async run(request: UpscaleRequest, callbacks: UpscaleCallbacks): Promise<{ path: string; remote?: RemoteRef | undefined; inputs: Record<string, unknown>; costUsd: number }> {
    let url = request.upload;
    if (!url && !request.resume) {
      url = (await uploadFile(this.session, { path: request.inputPath, filename: `${request.rawName}.png`, contentType: "image/png", signal: callbacks.signal })).urls.get;
      await callbacks.onUploaded?.(url);
    }
    const inputs = { image: url ?? "", scale: request.scale, face_enhance: false };
    const result = await this.generator.predict(
      { inputs, rawDir: request.rawDir, rawName: request.rawName, resume: request.resume },
      {
        signal: callbacks.signal,
        onCreating: () => callbacks.onCreating?.(inputs) ?? Promise.resolve(),
        onCreated: (remote) => callbacks.onCreated?.(remote) ?? Promise.resolve(),
      },
    );
    return { path: result.rawPath, remote: result.remote, inputs, costUsd: result.costUsd };
  }

  recover(request: { since: string; candidates: ReadonlyArray<{ key: string; inputs: Record<string, unknown>; knownIds: string[] }>; signal: AbortSignal }): Promise<Map<string, RemoteRef>> {
    return this.generator.recover({ since: request.since, signal: request.signal, candidates: request.candidates.map((c) => ({ key: c.key, inputs: [c.inputs], knownIds: c.knownIds })) });
  }
}
