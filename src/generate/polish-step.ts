/**
 * The face detail pass after a generation run (issue 17): `gen --polish`, `polish: {enabled: true}`
 * in the preset, or `polish:` in a batch file. Decided before anything is paid for (polish repaints
 * with the identity's LoRA, so it needs one), run once curation has picked the kept images.
 */
import { UsageError } from "../errors.js";
import type { IdentityLike } from "../generation/lora-source.js";
import type { PolishFolderEvent, PolishFolderResult } from "../polish/polish-folder.js";
import type { PromptWords } from "../polish/plan.js";
import type { PolishPresetSettings } from "../presets/schema.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import type { UseCaseIo } from "../use-case.js";
import type { GenerateOptions } from "./options.js";

export interface PolishDue {
  settings: PolishPresetSettings;
  words: Pick<PromptWords, "skin" | "lighting">;
}

/** Whether to polish: `options.polish` (--polish / --no-polish, a batch entry), else the preset's `polish.enabled`. */
export async function polishDue(options: GenerateOptions, place: { cwd: string; presetDirs: string[] }): Promise<PolishDue | undefined> {
  if (options.polish === false) return undefined;
  const { presetPolish } = await import("../polish/polish-folder.js");
  const { settings, words } = await presetPolish(options.preset, place);
  if (!(options.polish ?? settings.enabled ?? false)) return undefined;
  if (!options.identity) {
    throw new UsageError("--polish repaints faces with a trained identity's LoRA; reference mode (--ref) has none", {
      code: "E_POLISH_IDENTITY",
      hint: "pass --identity <name>, or --no-polish (the preset enables polish)",
    });
  }
  return { settings, words };
}

export interface PolishRun {
  due: PolishDue;
  outDir: string;
  identity: IdentityLike;
  home: string;
  /** The kept images to polish (names at the top of outDir); a batch marks the others in place. */
  files: string[];
  options: GenerateOptions;
  settings: GlobalSettings;
  env: Env;
}

/** The face pass on the run's kept images; preset values fill what is not set. */
export async function polishAfterRun(run: PolishRun, io: UseCaseIo<PolishFolderEvent>): Promise<PolishFolderResult> {
  const { polishFolder, polishInputFromPreset } = await import("../polish/polish-folder.js");
  const { options, settings } = run;
  return polishFolder(
    {
      dir: run.outDir,
      shown: run.outDir,
      identity: run.identity,
      home: run.home,
      backend: options.backend,
      ...polishInputFromPreset(run.due.settings),
      words: run.due.words,
      files: run.files,
      loraUrl: options.loraUrl,
      env: run.env,
      replicateBaseUrl: settings.replicateBaseUrl.value,
      local: { aiToolkitDir: settings.aiToolkitDir.value, aiToolkitPython: settings.aiToolkitPython, gpu: options.gpu, offload: options.offload, quantize: options.quantize },
    },
    io,
  );
}

/** The images the run kept, by the manifest: done, at the top of the folder, not marked as set aside. */
export function keptFiles(entries: Iterable<{ status: string; file?: string | undefined; kept?: boolean | undefined }>): string[] {
  return [...entries].flatMap((e) => (e.status === "done" && e.file && !e.file.includes("/") && e.kept !== false ? [e.file] : [])).sort();
}
