/**
 * `--backend replicate`: one prediction per planned image, through the Replicate layer
 * (src/replicate: safe retries, ambiguous-create recovery, streamed + hashed downloads).
 *
 * - Targets: a trained version `owner/name:<hex>` via POST /predictions (replicate/flux-fine-tuner predict.py), or an
 *   official model by name (flux-dev-lora 4.1, FLUX.2 4.5) via POST /models/.../predictions.
 * - Inputs are checked against the model's OpenAPI schema in `prepare()`, before anything is paid.
 * - Creates hold the request with `Prefer: wait=N` (2.3), so a fast model answers in one request;
 *   the id is persisted (onCreated) as soon as the answer arrives and before any polling. A run
 *   killed while a create was in flight finds its prediction again by its exact inputs (each image
 *   has its own seed) in GET /predictions?created_after=..., instead of paying twice.
 * - Output shapes differ (4.5: a URI string or an array): normalised by `outputUrls`.
 * - The result is downloaded at once (outputs are deleted after one hour: 2.4).
 * - Ctrl-C: a prediction still `starting` (queued, nothing billed yet) is cancelled; one already
 *   `processing` is left running, its id in the manifest, for the re-run to collect.
 */
import { InterruptedError, RemoteApiError, UsageError, isHeadshotError } from "../../errors.js";
import type { ReplicateSession } from "../../replicate/client.js";
import { downloadOutput, type DownloadResult } from "../../replicate/download.js";
import { findEarlierDownload } from "../../replicate/earlier-download.js";
import { assertValidInput, type OpenApiDocument } from "../../replicate/input-schema.js";
import { schemaFor } from "../../replicate/models.js";
import { isNsfwError } from "../../replicate/poll.js";
import { canonicalJson, outputUrls, Predictions, type PredictionTarget } from "../../replicate/predictions.js";
import type { Page, Prediction } from "../../replicate/types.js";
import { isTerminal } from "../../replicate/types.js";
import { GenerationFailure, type RecoveryCandidate, type GenCallbacks, type GenJob, type GenResult, type GenStage, type Generator, type ImageToImageJob, type RemoteRef } from "../generator.js";
import type { GenModel } from "../model-inputs.js";
import type { PlannedImage } from "../plan.js";
import { requireImageToImageInputs } from "./replicate-image-to-image.js";

/** One prediction: the exact inputs, where its output goes, and an earlier id to re-attach to. */
export type PredictionJob = Pick<GenJob, "inputs" | "rawDir" | "rawName" | "resume">;

export interface ReplicateGeneratorOptions {
  session: ReplicateSession;
  target: PredictionTarget;
  model: GenModel;
  /** Dollars per image from the price table (Replicate bills official image models per image). */
  priceUsd: number;
  /** Fills run-time inputs (uploaded reference URLs, LoRA weights) into the plan's inputs. */
  resolveInputs?: (image: PlannedImage) => Record<string, unknown>;
  /** Seconds a create may hold for the result (`Prefer: wait=N`, 1..60). Default 10. */
  syncWaitSeconds?: number;
  /** Poll pacing after a create returned unfinished. */
  pollIntervalMs?: number;
  pollMaxIntervalMs?: number;
}

/** Model-side errors worth a new attempt: infrastructure, not the input (https://replicate.com/docs/reference/http#predictions.get; https://replicate.com/docs/topics/predictions/lifecycle). */
const TRANSIENT_ERROR = /out of memory|cuda|timed? ?out|timeout|internal|unavailable|connection|network|try again|interrupted|preempt|worker|director|setup failed|503|502/i;

export function modelRefOf(target: PredictionTarget): string {
  return "model" in target ? target.model : target.version;
}

function remoteOf(prediction: Prediction, target: PredictionTarget): RemoteRef {
  return {
    id: prediction.id,
    modelRef: modelRefOf(target),
    ...(prediction.version && prediction.version !== "hidden" ? { version: prediction.version } : {}),
    ...(prediction.urls?.web ? { webUrl: prediction.urls.web } : {}),
  };
}

/** Classifies an error thrown by the Replicate layer while creating or polling. */
function classifyApiError(error: unknown, remote: RemoteRef | undefined): GenerationFailure {
  if (error instanceof GenerationFailure) return error;
  if (error instanceof UsageError) return new GenerationFailure("fatal", error.message, { code: error.code, cause: error, remote });
  if (error instanceof RemoteApiError) {
    const status = error.status;
    // Token, credit, unknown model/version, invalid input: every other image would fail the same way.
    if (status === 401 || status === 402 || status === 403 || status === 404 || status === 422 || status === 413) {
      if (remote && status === 404) {
        // Our own prediction vanished (deleted, or another account's token): make a new one.
        return new GenerationFailure("transient", error.message, { code: error.code, cause: error });
      }
      return new GenerationFailure("fatal", error.message, { code: error.code, cause: error, remote });
    }
    // 429 after the layer's backoff, 5xx, network: the prediction (if any) may still be fine.
    return new GenerationFailure(remote ? "reattach" : "transient", error.message, { code: error.code, cause: error, remote });
  }
  if (isHeadshotError(error)) return new GenerationFailure("failed", error.message, { code: error.code, cause: error, remote });
  throw error;
}

export class ReplicateGenerator implements Generator {
  readonly id = "replicate";
  readonly placeholder = false;
  private readonly predictions: Predictions;
  private schema: OpenApiDocument | null = null;

  constructor(private readonly options: ReplicateGeneratorOptions) {
    this.predictions = new Predictions(options.session, { recoveryDelayMs: 500 });
  }

  get modelRef(): string {
    return modelRefOf(this.options.target);
  }

  inputsFor(image: PlannedImage): Record<string, unknown> {
    return this.options.resolveInputs ? this.options.resolveInputs(image) : image.inputs;
  }

  /** Validates every image's inputs against the model's schema: nothing is paid if one is wrong. */
  async prepare(context: { signal: AbortSignal; images: ReadonlyArray<PlannedImage> }): Promise<void> {
    const { label, schema } = await schemaFor(this.options.session, this.options.target, context.signal);
    this.schema = schema;
    if (!schema) return;
    for (const image of context.images) assertValidInput(schema, this.inputsFor(image), label);
  }

  get validatedAgainstSchema(): boolean {
    return this.schema !== null;
  }

  generate(job: GenJob, callbacks: GenCallbacks): Promise<GenResult> {
    return this.predict(job, callbacks);
  }

  imageToImageInputs(job: ImageToImageJob): Record<string, unknown> {
    return requireImageToImageInputs(this.options.model, this.modelRef, job);
  }

  /** The face pass: one prediction with the model's image-to-image inputs (replicate-image-to-image.ts). */
  imageToImage(job: ImageToImageJob, callbacks: GenCallbacks): Promise<GenResult> {
    const { rawDir, rawName, resume } = job;
    return this.predict({ inputs: this.imageToImageInputs(job), rawDir, rawName, resume }, callbacks);
  }

  /** Creates (or re-attaches to) one prediction, waits, downloads: generate, imageToImage and polish's upscale. */
  async predict(job: PredictionJob, callbacks: GenCallbacks): Promise<GenResult> {
    const { signal } = callbacks;
    const target = this.options.target;
    let prediction: Prediction | undefined;
    let remote: RemoteRef | undefined;
    try {
      if (job.resume) {
        prediction = await this.predictions.get(job.resume.remoteId, signal);
        remote = remoteOf(prediction, target);
      } else {
        await callbacks.onCreating?.();
        callbacks.onStage?.("creating");
        prediction = await this.predictions.create({
          target,
          input: job.inputs,
          syncWaitSeconds: this.options.syncWaitSeconds ?? 10,
          signal,
        });
        remote = remoteOf(prediction, target);
        const persisted = callbacks.onCreated?.(remote);
        // Waiting on Replicate needs the id on disk first. A prediction that already finished in
        // the held create does not: a kill before the write lands leaves the image `creating`, and
        // the re-run finds the prediction by its inputs.
        if (!isTerminal(prediction.status)) await persisted;
        else persisted?.catch(() => undefined);
      }
      if (!isTerminal(prediction.status)) {
        callbacks.onStage?.(prediction.status === "starting" ? "queued" : "processing", remote);
        prediction = await this.predictions.wait(prediction, {
          signal,
          intervalMs: this.options.pollIntervalMs ?? 500,
          maxIntervalMs: this.options.pollMaxIntervalMs ?? 3_000,
          cancelOnStop: false,
          onUpdate: (p) => callbacks.onStage?.(p.status === "starting" ? "queued" : "processing", remote),
        });
      }
    } catch (error) {
      if (error instanceof InterruptedError || signal.aborted) throw new InterruptedError();
      throw classifyApiError(error, remote);
    }
    const done = prediction;
    const ref = remote ?? remoteOf(done, target);
    // A run killed right after this download's rename left the file but not its record: keep it
    // (even if Replicate has deleted the output since) rather than pay for the image again.
    const earlier = done.status === "succeeded" && job.resume ? await findEarlierDownload(job.rawDir, job.rawName) : undefined;
    if (earlier) return this.resultOf(done, ref, earlier);
    this.assertUsable(done, ref);
    const url = outputUrls(done)[0] as string;
    await callbacks.onRemoteDone?.();
    callbacks.onStage?.("downloading", ref);
    try {
      const file = await downloadOutput(this.options.session, url, {
        dir: job.rawDir,
        name: job.rawName,
        expect: "image",
        signal,
        completedAt: done.completed_at ?? null,
      });
      return this.resultOf(done, ref, file);
    } catch (error) {
      if (error instanceof InterruptedError || signal.aborted) throw new InterruptedError();
      if (isHeadshotError(error) && error.code === "E_REPLICATE_OUTPUT_EXPIRED") {
        throw new GenerationFailure("expired", error.message, { code: error.code, cause: error, remote: ref, ...(error.hint ? { hint: error.hint } : {}) });
      }
      if (isHeadshotError(error)) throw new GenerationFailure("reattach", error.message, { code: error.code, cause: error, remote: ref });
      throw error;
    }
  }

  private resultOf(done: Prediction, ref: RemoteRef, file: DownloadResult): GenResult {
    return {
      rawPath: file.path,
      sha256: file.sha256,
      contentType: file.contentType,
      remote: ref,
      predictSeconds: done.metrics?.predict_time,
      costUsd: this.options.priceUsd,
      costSource: "price-table",
      completedAt: done.completed_at ?? undefined,
    };
  }

  /** Throws the classified failure for a terminal prediction that gave no usable image. */
  private assertUsable(p: Prediction, remote: RemoteRef): void {
    const error = p.error ? this.options.session.redact(String(p.error)) : undefined;
    if (p.status === "succeeded") {
      if (p.data_removed) {
        const when = p.completed_at ? ` at ${p.completed_at}` : "";
        throw new GenerationFailure("expired", `Prediction ${p.id} finished${when}, but Replicate deleted its output after one hour before headshot could fetch it`, {
          code: "E_REPLICATE_OUTPUT_EXPIRED",
          remote,
          hint: "Replicate keeps API outputs for one hour; the image is made again with the same seed",
        });
      }
      if (!outputUrls(p).length) {
        // Trained versions drop NSFW-flagged images silently (replicate/flux-fine-tuner predict.py): none left.
        throw new GenerationFailure("filtered", `Prediction ${p.id} returned no image: the safety checker dropped it`, { code: "E_REPLICATE_NSFW", remote });
      }
      return;
    }
    if (p.status === "failed") {
      if (isNsfwError(error)) throw new GenerationFailure("filtered", `Prediction ${p.id} was filtered by the safety checker: ${error}`, { code: "E_REPLICATE_NSFW", remote });
      if (error && TRANSIENT_ERROR.test(error)) throw new GenerationFailure("transient", `Prediction ${p.id} failed: ${error}`, { code: "E_REPLICATE_PREDICTION_FAILED", remote });
      throw new GenerationFailure("failed", `Prediction ${p.id} failed: ${error ?? "no error message"}`, { code: "E_REPLICATE_PREDICTION_FAILED", remote });
    }
    if (p.status === "aborted") {
      throw new GenerationFailure("transient", `Prediction ${p.id} was aborted before it started (not billed)`, { code: "E_REPLICATE_PREDICTION_ABORTED", remote });
    }
    throw new GenerationFailure("failed", `Prediction ${p.id} was cancelled on Replicate`, {
      code: "E_REPLICATE_PREDICTION_CANCELED",
      remote,
      hint: "it was cancelled from the website or by another run; re-run to make it again",
    });
  }

  /**
   * Predictions created by a killed run whose ids never reached the manifest: one listing of
   * GET /predictions?created_after=... (newest first, 100 a page), matched by exact inputs.
   */
  async recover(request: { since: string; candidates: ReadonlyArray<RecoveryCandidate>; signal: AbortSignal }): Promise<Map<string, RemoteRef>> {
    const target = this.options.target;
    const wanted = new Map<string, { key: string; known: ReadonlySet<string> }>();
    for (const c of request.candidates) {
      for (const inputs of c.inputs) wanted.set(canonicalJson(inputs), { key: c.key, known: new Set(c.knownIds) });
    }
    const found = new Map<string, RemoteRef>();
    // A minute of margin for clock skew between this machine and Replicate.
    const after = new Date(Date.parse(request.since) - 60_000).toISOString();
    let route: string | URL = "/predictions";
    try {
      for (let page = 0; page < 50 && found.size < request.candidates.length; page++) {
        const response = await this.options.session.replicate.request(route, { method: "GET", ...(page === 0 ? { params: { created_after: after } } : {}), signal: request.signal });
        const body = (await response.json()) as Page<Prediction>;
        for (const p of body.results) {
          if ("model" in target ? p.model !== target.model : p.version !== target.version.split(":").pop()) continue;
          if (p.status === "canceled" || p.status === "aborted") continue;
          const match = wanted.get(canonicalJson(p.input));
          if (!match || match.known.has(p.id) || found.has(match.key)) continue;
          found.set(match.key, remoteOf(p, target));
        }
        if (!body.next) break;
        route = new URL(body.next);
      }
    } catch (error) {
      if (error instanceof InterruptedError || request.signal.aborted) throw new InterruptedError();
      if (isHeadshotError(error)) {
        throw new RemoteApiError(`Could not check Replicate for predictions the interrupted run may have created: ${error.message}`, {
          code: "E_REPLICATE_RECOVERY",
          cause: error,
          hint: "nothing was created; re-run in a moment (this check keeps a resumed batch from paying twice)",
        });
      }
      throw error;
    }
    return found;
  }

  /** Ctrl-C rule: cancel what is still queued (not billed yet); leave what is processing. */
  async onInterrupt(remote: RemoteRef, lastStage: GenStage): Promise<"cancelled" | "left-running"> {
    if (lastStage === "downloading") return "left-running";
    try {
      const p = await this.predictions.get(remote.id, AbortSignal.timeout(10_000));
      if (p.status === "starting") {
        await this.predictions.cancel(remote.id);
        return "cancelled";
      }
    } catch {
      // Unknown state: leave it; the re-run re-attaches and finds out.
    }
    return "left-running";
  }

  async close(): Promise<void> {
    // the session holds no open resources
  }
}
