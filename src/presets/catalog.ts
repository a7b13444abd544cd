/**
 * What `presets list` and `presets show` tell about presets: each one with its description (an
 * invalid one says so instead of failing the list), and one preset resolved with a sample prompt.
 */
import { composePrompt, type ComposedPrompt } from "./compose.js";
import { listPresets, loadPreset, type ResolvedPreset } from "./load.js";
import { applyVariation, expandVariations } from "./variations.js";

export interface PresetPlace {
  cwd: string;
  userDirs: ReadonlyArray<string>;
}

export interface PresetListing {
  name: string;
  builtin: boolean;
  path: string;
  description: string;
}

export async function listPresetsWithDescriptions(place: PresetPlace): Promise<PresetListing[]> {
  const rows: PresetListing[] = [];
  for (const p of await listPresets(place.userDirs)) {
    let description = "";
    try {
      description = (await loadPreset(p.path, place)).description ?? "";
    } catch {
      description = "(invalid: run headshot presets validate)";
    }
    rows.push({ name: p.name, builtin: p.builtin, path: p.path, description });
  }
  return rows;
}

export interface PresetDescription {
  preset: ResolvedPreset;
  /** Labels of the variations the preset expands to. */
  variations: string[];
  /** The prompt of the first variation, without an identity. */
  sample: ComposedPrompt;
}

export async function describePreset(name: string, place: PresetPlace): Promise<PresetDescription> {
  const preset = await loadPreset(name, place);
  const variations = expandVariations(preset.data);
  const first = variations[0];
  return { preset, variations: variations.map((v) => v.label), sample: composePrompt(first ? applyVariation(preset.data, first) : preset.data) };
}
