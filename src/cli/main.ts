/**
 * main(argv, deps) -> exit code. Never calls process.exit (house style: wrangler's main, citty's
 * runCommand), so tests run the whole CLI in-process. Commands are registered from small files
 * that import their heavy implementation lazily, which keeps `--help` fast.
 */
import { Command, CommanderError } from "commander";
import { ExitCode } from "../errors.js";
import { CommandContext, type CliDeps, type GlobalOptions, type Wrap } from "./context.js";
import { isInteractive, useColor } from "./interactive.js";
import { renderError } from "./render-error.js";
import { createReporter } from "./reporter.js";
import { VERSION } from "../version.js";
import { COMMANDS } from "./commands/index.js";

export type { Action, Wrap } from "./context.js";

const ROOT_HELP = `
Exit codes:
  0    success
  1    unexpected error (a bug: please report it)
  2    usage, config or preset error
  3    missing local dependency (ai-toolkit, Python, GPU)
  4    remote API error (Replicate: token, credit, validation, network)
  5    training or generation failed
  6    selfie set rejected
  130  interrupted (Ctrl-C); re-run the same command to resume

Environment:
  REPLICATE_API_TOKEN   Replicate API token (never printed or written)
  REPLICATE_BASE_URL    Replicate API base URL (default https://api.replicate.com/v1)
  HEADSHOT_HOME         identities and caches (default: the platform's user data dir)
  HEADSHOT_PRESET_PATH  extra preset folders, separated by ':'
  HEADSHOT_BACKEND      default train backend: local or replicate
  HF_TOKEN              Hugging Face token for gated base models (local training and generation)
  AI_TOOLKIT_DIR        ostris/ai-toolkit checkout;  AI_TOOLKIT_PYTHON  its Python
  NO_COLOR              disable colour;  CI  never prompt, plain progress lines

Docs: README.md (headshot --help <command> for each command's flags and examples)
`;

export async function main(argv: ReadonlyArray<string>, deps: CliDeps): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const program = new Command();
  const output = {
    writeOut: (s: string) => void deps.stdout.write(s),
    writeErr: (s: string) => void deps.stderr.write(s),
  };
  program
    .name("headshot")
    .description("Professional AI headshots from your selfies: check them, train an identity, generate from presets.")
    .version(VERSION, "-V, --version")
    .option("--json", "machine-readable output: JSON lines on stdout, the last one a summary")
    .option("--no-color", "disable colour (also NO_COLOR=1)")
    .option("--verbose", "more detail on stderr")
    .showSuggestionAfterError(true)
    .configureOutput(output)
    .exitOverride()
    .addHelpText("after", ROOT_HELP);

  const wrap: Wrap =
    (action) =>
    async (...args: unknown[]) => {
      const command = args[args.length - 1] as Command;
      const raw = command.optsWithGlobals() as { json?: boolean; color?: boolean; verbose?: boolean };
      const facts = { stdinIsTTY: deps.stdinIsTTY, stderrIsTTY: Boolean(deps.stderr.isTTY), env: deps.env };
      const globals: GlobalOptions = {
        json: Boolean(raw.json),
        color: useColor({ ...facts, json: Boolean(raw.json), noColorFlag: raw.color === false }),
        verbose: Boolean(raw.verbose),
      };
      const reporter = await createReporter({
        json: globals.json,
        stdout: deps.stdout,
        stderr: deps.stderr,
        interactive: isInteractive(facts),
        color: globals.color,
        verbose: globals.verbose,
      });
      const ctx = new CommandContext(deps, reporter, globals);
      try {
        await action(ctx, ...args);
      } catch (error) {
        exitCode = renderError(error, reporter);
      }
    };

  for (const register of COMMANDS) register(program, wrap);

  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; every other parse error was already printed by commander.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) {
        return ExitCode.ok;
      }
      return ExitCode.usage;
    }
    throw error;
  }
  return exitCode;
}
