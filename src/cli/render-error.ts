/**
 * The one place that turns errors into text for a person (house style: wrangler's
 * handle-errors.ts and STYLEGUIDE.md): a summary line, located diagnostics with the source line
 * and a caret, details, then "How to fix". Anything that is not a HeadshotError is a bug: the stack
 * is printed and the user is asked to report it.
 */
import { ExitCode, isHeadshotError, type Diagnostic } from "../errors.js";
import type { Reporter } from "./reporter.js";

const ISSUES_URL = "https://github.com/headshot-cli/headshot/issues";

export function formatDiagnostic(diagnostic: Diagnostic, style: Reporter["style"]): string {
  const lines: string[] = [];
  const label = diagnostic.severity === "error" ? style("red", "error") : style("yellow", "warning");
  const loc = diagnostic.location;
  if (loc) {
    lines.push(`  ${style("bold", `${loc.file}:${loc.line}:${loc.col}`)} ${label}: ${diagnostic.message}`);
    if (loc.lineText !== undefined) {
      const gutter = String(loc.line);
      const pad = " ".repeat(gutter.length);
      lines.push(`    ${style("dim", `${gutter} |`)} ${loc.lineText}`);
      const caret = "^".repeat(Math.max(1, loc.length ?? 1));
      lines.push(`    ${style("dim", `${pad} |`)} ${" ".repeat(Math.max(0, loc.col - 1))}${style("red", caret)}`);
    }
  } else {
    lines.push(`  ${label}: ${diagnostic.message}`);
  }
  if (diagnostic.hint) lines.push(`    ${style("cyan", diagnostic.hint)}`);
  return lines.join("\n");
}

/** Prints the error for a person (stderr) or as the closing JSON summary, and returns the exit code. */
export function renderError(error: unknown, reporter: Reporter): number {
  if (isHeadshotError(error)) {
    if (reporter.json) {
      reporter.errorSummary(error);
      return error.exitCode;
    }
    const out: string[] = [`${reporter.style("red", "✖")} ${reporter.style("bold", error.message)}`];
    for (const diagnostic of error.diagnostics) out.push(formatDiagnostic(diagnostic, reporter.style.bind(reporter)));
    for (const detail of error.details) out.push(`  ${detail}`);
    if (error.hint) out.push(`${reporter.style("cyan", "How to fix:")} ${error.hint}`);
    reporter.stderrRaw(`${out.join("\n")}\n`);
    return error.exitCode;
  }
  const err = error instanceof Error ? error : new Error(String(error));
  if (reporter.json) {
    reporter.errorSummary({ code: "E_BUG", message: err.message, exitCode: ExitCode.bug });
    return ExitCode.bug;
  }
  reporter.stderrRaw(
    `${reporter.style("red", "✖")} ${reporter.style("bold", "Unexpected error: this is a bug in headshot.")}\n` +
      `${err.stack ?? err.message}\n` +
      `Please report it at ${ISSUES_URL} with the command you ran (never include your API token).\n`,
  );
  return ExitCode.bug;
}
