/** `headshot presets list | show <name> | validate <file...>` */
import type { Command } from "commander";
import type { CommandContext, Wrap } from "../context.js";

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

async function place(ctx: CommandContext): Promise<{ cwd: string; userDirs: string[] }> {
  return { cwd: ctx.cwd, userDirs: (await ctx.settings()).presetDirs };
}

async function listAction(ctx: CommandContext): Promise<void> {
  const { listPresetsWithDescriptions } = await import("../../presets/catalog.js");
  const { renderPresetList } = await import("../views/presets.js");
  renderPresetList(ctx.reporter, await listPresetsWithDescriptions(await place(ctx)));
}

async function showAction(ctx: CommandContext, name: string): Promise<void> {
  const { describePreset } = await import("../../presets/catalog.js");
  const { renderPresetShow } = await import("../views/presets.js");
  renderPresetShow(ctx.reporter, await describePreset(name, await place(ctx)));
}

async function validateAction(ctx: CommandContext, files: string[]): Promise<void> {
  const { validatePresetFiles } = await import("../../presets/load.js");
  const { ConfigFileError } = await import("../../errors.js");
  const { renderPresetValidation } = await import("../views/presets.js");
  const { ok, failed } = await validatePresetFiles(files, await place(ctx));
  renderPresetValidation(ctx.reporter, ok, failed);
  if (failed.length) {
    const all = failed.flatMap((f) => f.diagnostics);
    throw new ConfigFileError(`${failed.length} of ${ok.length + failed.length} preset files are invalid`, ctx.reporter.json ? all : [], {
      hint: "fix the lines shown above; presets/schema.json lists every key and value",
    });
  }
  ctx.reporter.summary({ valid: ok.length });
}

export function registerPresets(program: Command, wrap: Wrap): void {
  const presets = program.command("presets").description("list, show and validate presets").addHelpText("after", EXAMPLES);
  presets
    .command("list")
    .description("list built-in and user presets")
    .action(wrap((ctx) => listAction(ctx)));
  presets
    .command("show <name>")
    .description("show a preset after `extends` is applied, with a sample prompt")
    .action(wrap((ctx, name) => showAction(ctx, String(name))));
  presets
    .command("validate <files...>")
    .description("check preset files and report every problem with its line and column")
    .action(wrap((ctx, files) => validateAction(ctx, files as string[])));
}
