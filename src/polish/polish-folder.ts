/**
 * The polish use case (issue 17): the face detail pass over the kept images of one folder, for
 * `headshot polish <folder>`, `gen --polish` and a batch preset with `polish:`. Plain input and
 * {signal, onEvent, now}; the caller resolves the identity (and its HEADSHOT_HOME) first, so this
 * room never reaches up into gen's. The CLI renders the events (src/cli/views/polish.ts).
 */
import { JobFailedError } from "../errors.js";
import type { IdentityLike } from "../generation/lora-source.js";
import type { LocalRunEvent, LocalRunOptions } from "../generation/local/backend-setup.js";
import type { PolishPresetSettings } from "../presets/schema.js";
import type { Env } from "../settings/settings.js";
import type { UseCaseIo } from "../use-case.js";
import type { FaceEntry, PolishEntry } from "./manifest.js";
import { DEFAULT_POLISH, type PolishEstimate, type PolishSettings, type PromptWords } from "./plan.js";
import type { PolishOutcome } from "./run-polish.js";
import type { PolishEvent } from "./request.js";
import type { PolishBackendName } from "./setup.js";

export type PolishFolderEvent = PolishEvent | LocalRunEvent | { type: "polish.start"; dir: string; files: number; dryRun: boolean };

export interface PolishFolderInput {
  /** Absolute folder of headshots (its kept images are at the top level). */
  dir: string;
  /** As the user wrote it, for the command that retries failed images. */
  shown: string;
  /** The identity whose LoRA repaints the face, already looked up by the caller. */
  identity: IdentityLike;
  /** The HEADSHOT_HOME that holds the identity (a rehearsal identity lives in its own). */
  home: string;
  backend: PolishBackendName;
  strength: number;
  upscale: number;
  upscaler: "auto" | "resize" | "replicate";
  margin: number;
  seed: number;
  /** Skin and lighting words for the face prompt (from the preset), besides trigger and class. */
  words?: Pick<PromptWords, "skin" | "lighting"> | undefined;
  /** Only these images (names in dir); default: every image at the top of the folder. */
  files?: string[] | undefined;
  loraUrl?: string | undefined;
  env: Env;
  replicateBaseUrl?: string | undefined;
  local?: LocalRunOptions | undefined;
  dryRun?: boolean | undefined;
}

/** One face pass a dry run lists: the image, the face and the exact inputs it would send. */
export interface PlannedCall {
  file: string;
  face: FaceEntry;
  inputs: Record<string, unknown>;
}

export type PolishFolderResult =
  | { dryRun: true; dir: string; entries: PolishEntry[]; calls: PlannedCall[]; estimate: PolishEstimate; backend: string; model: string; upscaler: string | undefined }
  | {
      dryRun: false;
      dir: string;
      files: string[];
      outcome: PolishOutcome;
      placeholder: boolean;
      /** The --json summary of the run (also gen's `polish` field). */
      summary: Record<string, unknown>;
      /** Set when some images could not be polished (exit 5, with the command that retries them). */
      error: JobFailedError | undefined;
    };

/** Flags (or a batch entry) first, then the preset's `polish:` settings, then the defaults. */
export function polishInputFromPreset(settings: PolishPresetSettings | undefined): Pick<PolishFolderInput, "strength" | "upscale" | "upscaler" | "margin" | "seed"> {
  return { strength: settings?.strength ?? DEFAULT_POLISH.strength, upscale: settings?.upscale ?? 0, upscaler: "auto", margin: settings?.margin ?? DEFAULT_POLISH.likenessMargin, seed: 0 };
}

/** A preset's `polish:` settings and the words of its face prompt (skin, lighting). */
export async function presetPolish(preset: string, place: { cwd: string; presetDirs: string[] }): Promise<{ settings: PolishPresetSettings; words: Pick<PromptWords, "skin" | "lighting"> }> {
  const { loadPreset } = await import("../presets/load.js");
  const loaded = await loadPreset(preset, { cwd: place.cwd, userDirs: place.presetDirs });
  return { settings: loaded.data.polish ?? {}, words: { skin: loaded.data.skin, lighting: loaded.data.lighting } };
}

export async function polishFolder(input: PolishFolderInput, io: UseCaseIo<PolishFolderEvent>): Promise<PolishFolderResult> {
  const { facePrompt } = await import("./plan.js");
  const settings: PolishSettings = { ...DEFAULT_POLISH, strength: input.strength, upscale: input.upscale, likenessMargin: input.margin, seed: input.seed };
  const prompt = facePrompt({ trigger: input.identity.trigger, classWord: input.identity.classWord, ...input.words });
  const { createFacePass, createUpscaler } = await import("./setup.js");
  const setup = {
    backend: input.backend,
    identity: input.identity,
    env: input.env,
    replicateBaseUrl: input.replicateBaseUrl,
    loraUrl: input.loraUrl,
    upscale: input.upscale,
    upscaler: input.upscaler,
    testDelayMs: Number(input.env.HEADSHOT_TEST_DELAY_MS ?? 0) || undefined,
    local: input.local,
    signal: io.signal,
    onLocalEvent: (event: LocalRunEvent) => io.onEvent(event),
  };
  const backend = await createFacePass(setup);
  try {
    const upscaler = await createUpscaler(setup);
    const { listKeptImages, planImage, runPolish } = await import("./run-polish.js");
    const files = input.files ?? (await listKeptImages(input.dir));
    io.onEvent({ type: "polish.start", dir: input.dir, files: files.length, dryRun: Boolean(input.dryRun) });
    if (input.dryRun) {
      const entries: PolishEntry[] = [];
      for (const file of files) entries.push(await planImage(input.dir, file, { settings, prompt }));
      const { estimatePolish } = await import("./plan.js");
      const faces = entries.reduce((s, e) => s + e.faces.length, 0);
      const estimate = estimatePolish({ images: entries.filter((e) => e.faces.length).length, faces, perFaceUsd: backend.priceUsd, secondsPerFace: backend.secondsPerFace, upscale: input.upscale, perUpscaleUsd: upscaler?.priceUsd ?? 0 });
      const calls = entries.flatMap((entry) =>
        entry.faces.map((face) => ({
          file: entry.file,
          face,
          inputs: backend.describe({ key: "", imagePath: `<region ${face.index} of ${entry.file}>`, maskPath: "<mask>", prompt: entry.prompt, seed: face.seed, strength: entry.strength, side: 1024, rawDir: "", rawName: "" }),
        })),
      );
      return { dryRun: true, dir: input.dir, entries, calls, estimate, backend: backend.id, model: backend.modelRef, upscaler: upscaler?.label };
    }
    const { loadReference } = await import("../scoring/reference.js");
    const reference = await loadReference({ home: input.home, identity: input.identity.name, signal: io.signal });
    const outcome = await runPolish({ dir: input.dir, identity: input.identity.name, prompt, settings, backend, upscaler, reference, home: input.home, files, signal: io.signal, onEvent: io.onEvent, now: io.now });
    const summary = { dir: input.dir, backend: backend.id, model: backend.modelRef, placeholder: backend.placeholder, polished: outcome.polished, keptOriginal: outcome.keptOriginal, skipped: outcome.skipped, failed: outcome.failed, costUsd: outcome.costUsd, manifest: outcome.manifestPath };
    const error = outcome.failed
      ? new JobFailedError(`${outcome.failed} image${outcome.failed === 1 ? "" : "s"} could not be polished`, {
          code: "E_POLISH_INCOMPLETE",
          hint: `re-run the same command to retry them: headshot polish ${input.shown} --identity ${input.identity.name}`,
          details: [JSON.stringify(summary)],
        })
      : undefined;
    return { dryRun: false, dir: input.dir, files, outcome, placeholder: backend.placeholder, summary, error };
  } finally {
    await backend.close();
  }
}
