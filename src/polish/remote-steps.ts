/**
 * The paid steps of polish (a face pass, an upscale) with gen's guarantees: uploads recorded
 * before the create, the exact inputs recorded as "creating" before it is sent, the remote id as
 * soon as it exists and before waiting. A re-run re-attaches to a recorded id, and looks for a
 * create that was cut off by a kill (recorded "creating", no id) by its exact inputs before it
 * would ever send it again.
 */
import { relative } from "node:path";
import { InterruptedError, RemoteApiError, isHeadshotError } from "../errors.js";
import { GenerationFailure } from "../generation/generator.js";
import type { FacePassBackend } from "./backends/types.js";
import { WORKING_SIDE } from "./geometry.js";
import type { FaceEntry, ManifestWriter, PolishEntry, RemoteStep } from "./manifest.js";
import type { PolishRequest } from "./run-polish.js";

const POLISHED = "polished";

function faceKey(entry: PolishEntry, face: FaceEntry): string {
  return `${entry.file}#${face.index}`;
}

/** A fatal failure stops the run with its typed error (exit 4 for Replicate); others fail the step. */
function rethrowFatal(error: unknown, signal: AbortSignal): GenerationFailure {
  if (error instanceof InterruptedError || signal.aborted) throw new InterruptedError();
  if (!(error instanceof GenerationFailure)) throw error;
  if (error.kind === "fatal") {
    const cause = error.cause;
    throw isHeadshotError(cause) ? cause : new RemoteApiError(error.message, { code: error.code, cause: error });
  }
  return error;
}

function markFailed(step: RemoteStep, failure: GenerationFailure): void {
  step.status = "failed";
  step.error = failure.message;
  if (step.remoteId) step.failedIds = [...(step.failedIds ?? []), step.remoteId];
  delete step.remoteId;
}

/**
 * Before anything is sent: faces left "creating" by a killed run are looked up remotely by their
 * exact inputs; found ones are re-attached, the rest go back to "uploaded" (their create never
 * reached the server). Faces that failed on an earlier run are tried again.
 */
export async function recoverLostCreates(writer: ManifestWriter, backend: FacePassBackend, signal: AbortSignal): Promise<void> {
  const lost: Array<{ entry: PolishEntry; face: FaceEntry }> = [];
  for (const entry of Object.values(writer.data.images)) {
    if (entry.status === "failed") {
      entry.status = "planned";
      for (const face of entry.faces) if (face.status === "failed") face.status = face.uploads ? "uploaded" : "pending";
    }
    for (const face of entry.faces) if (face.status === "creating" && !face.remoteId) lost.push({ entry, face });
  }
  if (!lost.length) return;
  const found = backend.recover
    ? await backend.recover({
        since: lost.map((l) => l.face.creatingAt ?? writer.data.createdAt).sort()[0] ?? writer.data.createdAt,
        candidates: lost.filter((l) => l.face.inputs).map((l) => ({ key: faceKey(l.entry, l.face), inputs: l.face.inputs as Record<string, unknown>, knownIds: l.face.failedIds ?? [] })),
        signal,
      })
    : new Map();
  for (const { entry, face } of lost) {
    const remote = found.get(faceKey(entry, face));
    if (remote) {
      face.remoteId = remote.id;
      face.status = "created";
    } else {
      face.status = face.uploads ? "uploaded" : "pending";
    }
  }
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
