/** How `presets list | show | validate` show themselves: lines for people, events and a summary for --json. */
import { stringify } from "yaml";
import type { ConfigFileError } from "../../errors.js";
import type { PresetDescription, PresetListing } from "../../presets/catalog.js";
import { formatDiagnostic } from "../render-error.js";
import type { Reporter } from "../reporter.js";

export function renderPresetList(r: Reporter, rows: PresetListing[]): void {
  for (const row of rows) r.event("preset", { ...row });
  const width = Math.max(4, ...rows.map((row) => row.name.length));
  r.result(rows.map((row) => `${r.style("bold", row.name.padEnd(width))}  ${row.builtin ? "" : r.style("cyan", "[user] ")}${row.description}`).join("\n"));
  r.summary({ presets: rows.length });
}

export function renderPresetShow(r: Reporter, shown: PresetDescription): void {
  const { preset, variations, sample } = shown;
  r.result(
    [
      `# ${preset.name} (${preset.chain.join(" <- ")})`,
      `# sha256 ${preset.hash}`,
      stringify({ ...preset.data, generation: preset.generation }).trimEnd(),
      ``,
      `# ${variations.length} variation${variations.length === 1 ? "" : "s"}: ${variations.join(", ")}`,
      `# sample prompt: ${sample.prompt}`,
    ].join("\n"),
  );
  r.summary({ preset: { ...preset.data, generation: preset.generation }, hash: preset.hash, chain: preset.chain, variations, samplePrompt: sample.prompt, samplePromptJson: sample.promptJson });
}

/** Every valid file, then every invalid one with its located diagnostics (on stderr for people). */
export function renderPresetValidation(r: Reporter, ok: string[], failed: ConfigFileError[]): void {
  for (const file of ok) {
    r.success(`${file} is valid`);
    r.event("valid", { file });
  }
  for (const error of failed) {
    r.event("invalid", { message: error.message, diagnostics: error.diagnostics });
    if (!r.json) {
      r.stderrRaw(`${r.style("red", "✖")} ${error.message}\n`);
      for (const d of error.diagnostics) r.stderrRaw(`${formatDiagnostic(d, r.style.bind(r))}\n`);
    }
  }
}
