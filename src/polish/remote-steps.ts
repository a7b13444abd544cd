/**
 * The paid steps of polish (a face pass, an upscale) with gen's guarantees: uploads recorded
 * before the create, the exact inputs recorded as "creating" before it is sent, the remote id as
 * soon as it exists and before waiting. A re-run re-attaches to a recorded id, and looks for a
 * create that was cut off by a kill (recorded "creating", no id) by its exact inputs before it
 * would ever send it again.
 */
import { relative } from "node:path";
import { isErrorCode } from "../error-codes.js";
import { InterruptedError, RemoteApiError, isHeadshotError } from "../errors.js";
import { GenerationFailure } from "../generation/generator.js";
import type { FacePassBackend } from "./backends/types.js";
import { WORKING_SIDE } from "./geometry.js";
import type { FaceEntry, ManifestWriter, PolishEntry, RemoteStep } from "./manifest.js";
import type { Upscaler } from "./upscale.js";
import type { PolishRequest } from "./request.js";

const POLISHED = "polished"; // run-polish.ts POLISHED_DIR (not imported: run-polish imports this file)

function faceKey(entry: PolishEntry, face: FaceEntry): string {
  return `${entry.file}#${face.index}`;
}

/** A fatal failure stops the run with its typed error (exit 4 for Replicate); others fail the step. */
function rethrowFatal(error: unknown, signal: AbortSignal): GenerationFailure {
  if (error instanceof InterruptedError || signal.aborted) throw new InterruptedError();
  if (!(error instanceof GenerationFailure)) throw error;
  if (error.kind === "fatal") {
    const cause = error.cause;
    throw isHeadshotError(cause) ? cause : new RemoteApiError(error.message, { code: isErrorCode(error.code) ? error.code : "E_REMOTE", cause: error });
  }
  return error;
}

function markFailed(step: RemoteStep, failure: GenerationFailure): void {
  step.status = "failed";
  step.error = failure.message;
  if (step.remoteId) step.failedIds = [...(step.failedIds ?? []), step.remoteId];
  delete step.remoteId;
}

type Recover = NonNullable<FacePassBackend["recover"]>;

/** Looks the lost creates up remotely (by exact inputs) and re-attaches or rewinds each step. */
async function recoverSteps(steps: Array<{ key: string; step: RemoteStep }>, recover: Recover | undefined, fallbackSince: string, signal: AbortSignal): Promise<void> {
  if (!steps.length) return;
  const withInputs = steps.filter((s) => s.step.inputs);
  const found =
    recover && withInputs.length
      ? await recover({
          since: steps.map((s) => s.step.creatingAt ?? fallbackSince).sort()[0] ?? fallbackSince,
          candidates: withInputs.map((s) => ({ key: s.key, inputs: s.step.inputs as Record<string, unknown>, knownIds: s.step.failedIds ?? [] })),
          signal,
        })
      : new Map<string, { id: string }>();
  for (const { key, step } of steps) {
    const remote = found.get(key);
    if (remote) {
      step.remoteId = remote.id;
      step.status = "created";
    } else {
      // Its create never reached the server: sending it now is the first time.
      step.status = step.uploads ? "uploaded" : "pending";
    }
  }
}

/**
 * Before anything is sent: steps left "creating" by a killed run (no id recorded) are looked up
 * remotely by their exact inputs; found ones are re-attached, the rest go back to "uploaded".
 * Faces that failed on an earlier run are tried again.
 */
export async function recoverLostCreates(writer: ManifestWriter, backend: FacePassBackend, upscaler: Upscaler | undefined, signal: AbortSignal): Promise<void> {
  const faces: Array<{ key: string; step: RemoteStep }> = [];
  const upscales: Array<{ key: string; step: RemoteStep }> = [];
  for (const entry of Object.values(writer.data.images)) {
    if (entry.status === "failed") {
      entry.status = "planned";
      for (const face of entry.faces) if (face.status === "failed") face.status = face.uploads ? "uploaded" : "pending";
    }
    for (const face of entry.faces) if (face.status === "creating" && !face.remoteId) faces.push({ key: faceKey(entry, face), step: face });
    if (entry.upscale?.status === "creating" && !entry.upscale.remoteId) upscales.push({ key: `${entry.file}#upscale`, step: entry.upscale });
  }
  if (!faces.length && !upscales.length) return;
  await recoverSteps(faces, backend.recover?.bind(backend), writer.data.createdAt, signal);
  await recoverSteps(upscales, upscaler?.recover?.bind(upscaler), writer.data.createdAt, signal);
  await writer.save();
}

export interface FaceStepContext {
  request: PolishRequest;
  writer: ManifestWriter;
  entry: PolishEntry;
  face: FaceEntry;
  paths: { image: string; mask: string };
  workDir: string;
  name: string;
  onCreating: () => void;
  onCreated: (remoteId: string) => void;
}

/** Runs (or re-attaches to) one face pass. Returns true when a new paid job was created. */
export async function runFaceStep(ctx: FaceStepContext): Promise<boolean> {
  const { request, writer, entry, face } = ctx;
  const { backend, signal } = request;
  const outDir = `${request.dir}/${POLISHED}`;
  const resume = face.status === "created" && face.remoteId ? { remoteId: face.remoteId } : undefined;
  const uploads = face.uploads?.image && face.uploads.mask ? { image: face.uploads.image, mask: face.uploads.mask } : undefined;
  let created = false;
  try {
    const result = await backend.run(
      {
        key: faceKey(entry, face),
        imagePath: ctx.paths.image,
        maskPath: ctx.paths.mask,
        prompt: entry.prompt,
        seed: face.seed,
        strength: entry.strength,
        side: WORKING_SIDE,
        steps: entry.sampler?.steps ?? request.settings.steps,
        guidance: entry.sampler?.guidance ?? request.settings.guidance,
        loraScale: entry.sampler?.loraScale ?? request.settings.loraScale,
        rawDir: ctx.workDir,
        rawName: `${ctx.name}.f${face.index}.answer`,
        resume,
        uploads,
      },
      {
        signal,
        onUploaded: async (u) => {
          face.uploads = u;
          face.status = "uploaded";
          await writer.save();
        },
        onCreating: async (inputs) => {
          face.inputs = inputs;
          face.status = "creating";
          face.creatingAt = new Date().toISOString();
          face.modelRef = backend.modelRef;
          await writer.save();
          ctx.onCreating();
        },
        onCreated: async (remote) => {
          created = true;
          face.remoteId = remote.id;
          face.status = "created";
          await writer.save();
          ctx.onCreated(remote.id);
        },
      },
    );
    face.inputs = result.inputs;
    face.output = relative(outDir, result.path);
    face.costUsd = result.costUsd;
    if (result.remote) face.remoteId = result.remote.id;
    face.modelRef = backend.modelRef;
    face.status = "done";
    delete face.error;
    await writer.save();
    return created;
  } catch (error) {
    if ((error instanceof InterruptedError || signal.aborted) && face.status === "created" && face.remoteId && backend.onInterrupt) {
      // Queued and not billed yet: cancel it, and the re-run creates it afresh (never adopting this id).
      if ((await backend.onInterrupt(face.remoteId)) === "cancelled") {
        face.failedIds = [...(face.failedIds ?? []), face.remoteId];
        delete face.remoteId;
        face.status = face.uploads ? "uploaded" : "pending";
        await writer.save();
      }
    }
    markFailed(face, rethrowFatal(error, signal));
    await writer.save();
    return created;
  }
}

/** Upscales the kept version; returns the path of the enlarged PNG. */
export async function runUpscaleStep(ctx: { request: PolishRequest; writer: ManifestWriter; entry: PolishEntry; inputPath: string; workDir: string; name: string }): Promise<string> {
  const { request, writer, entry } = ctx;
  const upscaler = request.upscaler!;
  const outDir = `${request.dir}/${POLISHED}`;
  // The kept version decides what is upscaled: a changed decision starts the step again.
  const source = relative(outDir, ctx.inputPath);
  if (!entry.upscale || entry.upscale.uploads?.source !== source) {
    entry.upscale = { status: "pending", scale: request.settings.upscale, kind: upscaler.kind, uploads: { source } };
  }
  const step = entry.upscale;
  if (step.status === "done" && step.output) return `${outDir}/${step.output}`;
  try {
    const result = await upscaler.run(
      {
        key: `${entry.file}#upscale`,
        inputPath: ctx.inputPath,
        scale: step.scale,
        rawDir: ctx.workDir,
        rawName: `${ctx.name}.upscaled`,
        resume: step.status === "created" && step.remoteId ? { remoteId: step.remoteId } : undefined,
        upload: step.uploads?.image,
      },
      {
        signal: request.signal,
        onUploaded: async (url) => {
          step.uploads = { ...step.uploads, image: url };
          step.status = "uploaded";
          await writer.save();
        },
        onCreating: async (inputs) => {
          step.inputs = inputs;
          step.status = "creating";
          step.creatingAt = new Date().toISOString();
          await writer.save();
        },
        onCreated: async (remote) => {
          step.remoteId = remote.id;
          step.status = "created";
          await writer.save();
        },
      },
    );
    step.output = relative(outDir, result.path);
    step.costUsd = result.costUsd;
    if (result.inputs) step.inputs = result.inputs;
    step.status = "done";
    await writer.save();
    return result.path;
  } catch (error) {
    markFailed(step, rethrowFatal(error, request.signal));
    await writer.save();
    // The face pass is done and paid for: deliver it at its own size and say why.
    entry.note = `upscale failed (${step.error}); the final file is not enlarged`;
    return ctx.inputPath;
  }
}
