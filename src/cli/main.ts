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
import { guardStream, outputRedactor } from "./output-guard.js";
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

/**
 * `headshot --help gen` means `headshot gen --help`: commander would print the root help because
 * the root's --help comes first (issue 15).
 */
export function helpFirst(argv: ReadonlyArray<string>, program: Command): string[] {
  const [first, second, ...rest] = argv;
  if ((first === "--help" || first === "-h") && second && program.commands.some((c) => c.name() === second || c.aliases().includes(second))) {
    return [second, "--help", ...rest];
  }
  return [...argv];
}

/** `--json` anywhere before a `--` (commander has not parsed yet when a usage error is found). */
function wantsJson(argv: ReadonlyArray<string>): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).includes("--json");
}

export async function main(argv: ReadonlyArray<string>, rawDeps: CliDeps): Promise<number> {
  let exitCode: number = ExitCode.ok;
  // Every write goes through one redacting guard (issue 14, S1), commander's usage text included.
  const redact = outputRedactor(rawDeps.env);
  const deps: CliDeps = { ...rawDeps, stdout: guardStream(rawDeps.stdout, redact), stderr: guardStream(rawDeps.stderr, redact) };
  const json = wantsJson(argv);
  const usageText: string[] = [];
  const program = new Command();
  const output = {
    writeOut: (s: string) => void deps.stdout.write(s),
    // With --json, usage errors end in the summary line instead of plain text (issue 14, R4).
    writeErr: (s: string) => void (json ? usageText.push(s) : deps.stderr.write(s)),
  };
  program
    .name("headshot")
    .description("Professional AI headshots from your selfies: check them, train an identity, generate from presets.")
    .version(VERSION, "-V, --version")
    .option("--json", "machine-readable output: JSON lines on stdout, the last one a summary")
    .option("--no-color", "disable colour (also NO_COLOR=1)")
    .option("--verbose", "more detail on stderr")
    .showSuggestionAfterError(true)
    // Every command's help lists --json / --verbose too (inherited by the commands added below).
    .configureHelp({ showGlobalOptions: true })
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
    await program.parseAsync(helpFirst(argv, program), { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; every other parse error was already printed by commander.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.exitCode === 0) {
        return ExitCode.ok;
      }
      if (json) writeUsageSummary(deps, error, usageText.join(""));
      return ExitCode.usage;
    }
    throw error;
  }
  return exitCode;
}

/** The `{"type":"summary","ok":false}` line for a usage error commander found (issue 14, R4). */
function writeUsageSummary(deps: CliDeps, error: CommanderError, text: string): void {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const message = (lines[0] ?? error.message).replace(/^error:\s*/, "");
  const hint = lines.slice(1).join(" ") || "run headshot --help (or headshot <command> --help) for the options";
  const body = { code: "E_USAGE", message, exitCode: ExitCode.usage, hint, details: [error.code] };
  deps.stdout.write(`${JSON.stringify({ type: "summary", ok: false, error: body })}\n`);
}
