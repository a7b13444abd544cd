/** `headshot presets list | show <name> | validate <file...>` */
import type { Command } from "commander";
import type { Wrap } from "../context.js";
import type { CommandContext } from "../context.js";

const EXAMPLES = `
Examples:
  $ headshot presets list
  $ headshot presets show corporate
  $ headshot presets show ./presets/my-team.yaml --json
  $ headshot presets validate ./presets/*.yaml

User presets live in ./presets/, in folders listed in headshot.config.yaml (presets:) or
HEADSHOT_PRESET_PATH; they shadow built-ins of the same name. presets/schema.json (shipped with
headshot) gives editors completion: add "# yaml-language-server: $schema=<path>/schema.json".
`;

async function presetDirs(ctx: CommandContext): Promise<string[]> {
  return (await ctx.settings()).presetDirs;
}

export function registerPresets(program: Command, wrap: Wrap): void {
  const presets = program.command("presets").description("list, show and validate presets").addHelpText("after", EXAMPLES);

  presets
    .command("list")
    .description("list built-in and user presets")
    .action(
      wrap(async (ctx) => {
        const { listPresets, loadPreset } = await import("../../presets/load.js");
        const dirs = await presetDirs(ctx);
        const all = await listPresets(dirs);
        const rows: Array<{ name: string; builtin: boolean; path: string; description: string }> = [];
        for (const p of all) {
          let description = "";
          try {
            description = (await loadPreset(p.path, { cwd: ctx.cwd, userDirs: dirs })).description ?? "";
          } catch {
            description = "(invalid: run headshot presets validate)";
          }
          rows.push({ name: p.name, builtin: p.builtin, path: p.path, description });
          ctx.reporter.event("preset", { name: p.name, builtin: p.builtin, path: p.path, description });
        }
        const width = Math.max(4, ...rows.map((r) => r.name.length));
        ctx.reporter.result(
          rows.map((r) => `${ctx.reporter.style("bold", r.name.padEnd(width))}  ${r.builtin ? "" : ctx.reporter.style("cyan", "[user] ")}${r.description}`).join("\n"),
        );
        ctx.reporter.summary({ presets: rows.length });
      }),
    );

  presets
    .command("show <name>")
    .description("show a preset after `extends` is applied, with a sample prompt")
    .action(
      wrap(async (ctx, name) => {
        const { loadPreset } = await import("../../presets/load.js");
        const { composePrompt } = await import("../../presets/compose.js");
        const { expandVariations, applyVariation } = await import("../../presets/variations.js");
        const { stringify } = await import("yaml");
        const preset = await loadPreset(String(name), { cwd: ctx.cwd, userDirs: await presetDirs(ctx) });
        const variations = expandVariations(preset.data);
        const first = variations[0];
        const composed = composePrompt(first ? applyVariation(preset.data, first) : preset.data);
        ctx.reporter.result(
          [
            `# ${preset.name} (${preset.chain.join(" <- ")})`,
            `# sha256 ${preset.hash}`,
            stringify({ ...preset.data, generation: preset.generation }).trimEnd(),
            ``,
            `# ${variations.length} variation${variations.length === 1 ? "" : "s"}: ${variations.map((v) => v.label).join(", ")}`,
            `# sample prompt: ${composed.prompt}`,
          ].join("\n"),
        );
        ctx.reporter.summary({ preset: { ...preset.data, generation: preset.generation }, hash: preset.hash, chain: preset.chain, variations: variations.map((v) => v.label), samplePrompt: composed.prompt, samplePromptJson: composed.promptJson });
      }),
    );

  presets
    .command("validate <files...>")
    .description("check preset files and report every problem with its line and column")
    .action(
      wrap(async (ctx, files) => {
        const { validatePresetFiles } = await import("../../presets/load.js");
        const { ConfigFileError } = await import("../../errors.js");
        const { formatDiagnostic } = await import("../render-error.js");
        const { ok, failed } = await validatePresetFiles(files as string[], { cwd: ctx.cwd, userDirs: await presetDirs(ctx) });
        for (const file of ok) {
          ctx.reporter.success(`${file} is valid`);
          ctx.reporter.event("valid", { file });
        }
        for (const error of failed) {
          ctx.reporter.event("invalid", { message: error.message, diagnostics: error.diagnostics });
          if (!ctx.reporter.json) {
            ctx.reporter.stderrRaw(`${ctx.reporter.style("red", "✖")} ${error.message}\n`);
            for (const d of error.diagnostics) ctx.reporter.stderrRaw(`${formatDiagnostic(d, ctx.reporter.style.bind(ctx.reporter))}\n`);
          }
        }
        if (failed.length) {
          const all = failed.flatMap((f) => f.diagnostics);
          throw new ConfigFileError(`${failed.length} of ${ok.length + failed.length} preset files are invalid`, ctx.reporter.json ? all : [], {
            hint: "fix the lines shown above; presets/schema.json lists every key and value",
          });
        }
        ctx.reporter.summary({ valid: ok.length });
      }),
    );
}
