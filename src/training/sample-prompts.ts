/**
 * Sample prompts for training progress, built from a preset so the samples ai-toolkit renders
 * look like the headshots the user will generate. They keep the `[trigger]` placeholder, which
 * ai-toolkit replaces with the trigger word (ostris/ai-toolkit toolkit/dataloader_mixins.py, toolkit/prompt_utils.py: only when trigger_word is set,
 * which our configs always do).
 */
import { composePrompt, TRIGGER_PLACEHOLDER } from "../presets/compose.js";
import type { ResolvedPreset } from "../presets/load.js";
import { applyVariation, expandVariations } from "../presets/variations.js";

export function samplePromptsFromPreset(preset: ResolvedPreset, classWord: string, max = 4): string[] {
  const prompts = expandVariations(preset.data)
    .slice(0, max)
    .map((variation) => composePrompt(applyVariation(preset.data, variation), { trigger: TRIGGER_PLACEHOLDER, classWord }).prompt);
  return [...new Set(prompts)];
}

/** `train --sample-preset <name|file>`: the preset loaded the way `gen` loads one, then its prompts. */
export async function samplePromptsFor(preset: string, classWord: string, place: { cwd: string; userDirs: string[] }): Promise<string[]> {
  const { loadPreset } = await import("../presets/load.js");
  return samplePromptsFromPreset(await loadPreset(preset, place), classWord);
}
