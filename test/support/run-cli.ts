/**
 * Runs the CLI in-process (main(argv, deps)) with captured output, a temp working folder and a
 * temp HEADSHOT_HOME, so command tests exercise everything but the real process boundary.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { main } from "../../src/cli/main.js";
import type { CliDeps } from "../../src/cli/context.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON lines (only meaningful with --json). */
  json(): Array<Record<string, unknown>>;
}

export class Capture {
  text = "";
  isTTY: boolean;
  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  // Terminal control methods ora calls on a TTY stream; output is plain text here.
  cursorTo(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
}

export async function runCli(
  argv: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; tty?: boolean; signal?: AbortSignal; confirm?: CliDeps["confirm"] },
): Promise<CliResult> {
  const stdout = new Capture(options.tty);
  const stderr = new Capture(options.tty);
  const code = await main(argv, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH, HOME: options.cwd, ...options.env },
    stdout,
    stderr,
    stdinIsTTY: Boolean(options.tty),
    signal: options.signal ?? new AbortController().signal,
    ...(options.confirm ? { confirm: options.confirm } : {}),
  });
  return {
    code,
    stdout: stripVTControlCharacters(stdout.text),
    stderr: stripVTControlCharacters(stderr.text),
    json: () =>
      stdout.text
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/** A fresh temp folder (cwd) with its own HEADSHOT_HOME; call cleanup() in afterEach/afterAll. */
export async function tempWorkspace(prefix = "headshot-test-"): Promise<{ dir: string; home: string; env: Record<string, string>; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const home = join(dir, ".headshot-home");
  return { dir, home, env: { HEADSHOT_HOME: home }, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
