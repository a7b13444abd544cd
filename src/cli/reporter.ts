/**
 * The one place that writes to the terminal (house style: wrangler's logger, changesets' NDJSON
 * output). Two modes:
 * - human: colour and spinners on stderr (spinners only when interactive), results on stdout;
 * - json: stdout carries only JSON lines (events), the last one a summary; stderr stays quiet.
 */
import type { Ora } from "ora";
import type { ChalkInstance } from "chalk";
import type { HeadshotError } from "../errors.js";

export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ReporterOptions {
  json: boolean;
  stdout: OutputStream;
  stderr: OutputStream;
  /** stdin and stdout are TTYs and we are not in CI: spinners and prompts allowed. */
  interactive: boolean;
  color: boolean;
  verbose?: boolean;
}

/** A live progress line: a spinner on a TTY, throttled plain lines otherwise, events in --json. */
export interface ProgressHandle {
  update(text: string, data?: Record<string, unknown>): void;
  succeed(text: string): void;
  fail(text: string): void;
  stop(): void;
}

/** Minimum gap between two plain progress lines when not on a TTY (CI logs stay readable). */
const PLAIN_PROGRESS_INTERVAL_MS = 5_000;

export class Reporter {
  readonly json: boolean;
  readonly interactive: boolean;
  readonly verbose: boolean;
  private readonly out: OutputStream;
  private readonly err: OutputStream;
  private readonly chalk: ChalkInstance | undefined;
  private spinnerFactory: ((text: string) => Ora) | undefined;
  /** Set once the --json summary is written: nothing may follow it on stdout (issue 14, R3). */
  private finished = false;

  constructor(options: ReporterOptions, chalk?: ChalkInstance, spinnerFactory?: (text: string) => Ora) {
    this.json = options.json;
    this.interactive = options.interactive;
    this.verbose = options.verbose ?? false;
    this.out = options.stdout;
    this.err = options.stderr;
    this.chalk = options.color ? chalk : undefined;
    this.spinnerFactory = spinnerFactory;
  }

  /** Styles text when colour is on; plain otherwise (NO_COLOR, --no-color, --json, pipes). */
  style(kind: "bold" | "dim" | "green" | "yellow" | "red" | "cyan", text: string): string {
    return this.chalk ? this.chalk[kind](text) : text;
  }

  /** A message for a person (stderr). Silent in --json mode. */
  info(message: string): void {
    if (!this.json) this.err.write(`${message}\n`);
  }

  debug(message: string): void {
    if (this.verbose && !this.json) this.err.write(`${this.style("dim", message)}\n`);
  }

  warn(message: string): void {
    if (!this.json) this.err.write(`${this.style("yellow", "warning")} ${message}\n`);
  }

  success(message: string): void {
    if (!this.json) this.err.write(`${this.style("green", "✔")} ${message}\n`);
  }

  /** A result a person asked for (stdout): tables, plans, paths written. Silent in --json mode. */
  result(text: string): void {
    if (!this.json && !this.finished) this.out.write(text.endsWith("\n") ? text : `${text}\n`);
  }

  /** A machine-readable event: one JSON line on stdout in --json mode; ignored for humans. */
  event(type: string, data: Record<string, unknown> = {}): void {
    if (this.json && !this.finished) this.out.write(`${JSON.stringify({ type, ...data })}\n`);
  }

  /** The closing JSON line of a --json run. Every command that succeeds calls it exactly once. */
  summary(data: Record<string, unknown>): void {
    if (!this.json || this.finished) return;
    this.finished = true;
    this.out.write(`${JSON.stringify({ type: "summary", ok: true, ...data })}\n`);
  }

  /** The closing JSON line of a failed --json run (the human form is printed by render-error). */
  errorSummary(error: HeadshotError | { code: string; message: string; exitCode: number }): void {
    if (!this.json || this.finished) return;
    this.finished = true;
    const body = "toJSON" in error && typeof error.toJSON === "function" ? error.toJSON() : error;
    this.out.write(`${JSON.stringify({ type: "summary", ok: false, error: body })}\n`);
  }

  /** Writes raw text to stderr (used by render-error for human output). */
  stderrRaw(text: string): void {
    this.err.write(text);
  }

  progress(initial: string, eventType = "progress"): ProgressHandle {
    if (this.json) {
      return {
        update: (text, data) => this.event(eventType, { message: text, ...data }),
        succeed: (text) => this.event(eventType, { message: text, done: true }),
        fail: (text) => this.event(eventType, { message: text, failed: true }),
        stop: () => undefined,
      };
    }
    if (this.interactive && this.spinnerFactory) {
      const spinner = this.spinnerFactory(initial).start();
      return {
        update: (text) => {
          spinner.text = text;
        },
        succeed: (text) => spinner.succeed(text),
        fail: (text) => spinner.fail(text),
        stop: () => spinner.stop(),
      };
    }
    // Not a TTY (CI, pipes): plain lines, at most one every few seconds.
    let last = 0;
    this.info(initial);
    return {
      update: (text) => {
        const now = Date.now();
        if (now - last >= PLAIN_PROGRESS_INTERVAL_MS) {
          last = now;
          this.info(text);
        }
      },
      succeed: (text) => this.success(text),
      fail: (text) => this.info(`${this.style("red", "✖")} ${text}`),
      stop: () => undefined,
    };
  }
}

/** Builds a reporter with chalk and ora loaded only when they will be used. */
export async function createReporter(options: ReporterOptions): Promise<Reporter> {
  let chalk: ChalkInstance | undefined;
  if (options.color && !options.json) {
    const { Chalk } = await import("chalk");
    chalk = new Chalk({ level: 1 });
  }
  let spinnerFactory: ((text: string) => Ora) | undefined;
  if (options.interactive && !options.json) {
    const { default: ora } = await import("ora");
    const stream = options.stderr as unknown as NodeJS.WritableStream;
    spinnerFactory = (text) => ora({ text, stream, isEnabled: true, color: options.color ? "cyan" : false });
  }
  return new Reporter(options, chalk, spinnerFactory);
}
