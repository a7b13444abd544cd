/**
 * Typed errors shared by every part of headshot.
 *
 * Each error carries a stable `code`, the process exit code it maps to, and a `hint` that names
 * the exact flag, command or setting that fixes it (house style: wrangler's UserError/FatalError,
 * changesets' ExitError). Anything thrown that is not a HeadshotError is a bug and is reported as
 * such by src/cli/render-error.ts.
 */

import type { ErrorCode } from "./error-codes.js";

export type { ErrorCode } from "./error-codes.js";

/** Exit codes, documented in README and `headshot --help`. */
export const ExitCode = {
  ok: 0,
  bug: 1,
  usage: 2,
  missingDependency: 3,
  remoteApi: 4,
  jobFailed: 5,
  selfiesRejected: 6,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A place in a file, for config and preset errors (1-based line and column). */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
  /** The full text of that source line, for the caret display. */
  lineText?: string;
  /** How many characters the caret should underline (at least 1). */
  length?: number;
}

/** One problem found while validating a file: several are collected before failing. */
export interface Diagnostic {
  message: string;
  location?: SourceLocation;
  /** "did you mean ..." or another fix for this one problem. */
  hint?: string;
  severity: "error" | "warning";
}

export interface HeadshotErrorOptions {
  hint?: string;
  details?: string[];
  diagnostics?: Diagnostic[];
  cause?: unknown;
}

export class HeadshotError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCodeValue;
  readonly hint: string | undefined;
  readonly details: string[];
  readonly diagnostics: Diagnostic[];

  constructor(code: ErrorCode, exitCode: ExitCodeValue, message: string, options: HeadshotErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details ?? [];
    this.diagnostics = options.diagnostics ?? [];
  }

  /** The shape written as `{"error": ...}` in --json mode. */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      exitCode: this.exitCode,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details.length ? { details: this.details } : {}),
      ...(this.diagnostics.length ? { diagnostics: this.diagnostics } : {}),
    };
  }
}

/** Bad flags, arguments, config or presets: exit 2. */
export class UsageError extends HeadshotError {
  constructor(message: string, options: HeadshotErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? "E_USAGE", ExitCode.usage, message, options);
  }
}

/** A preset or config file that does not validate; carries located diagnostics. Exit 2. */
export class ConfigFileError extends HeadshotError {
  constructor(message: string, diagnostics: Diagnostic[], options: HeadshotErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? "E_CONFIG_INVALID", ExitCode.usage, message, { ...options, diagnostics });
  }
}

/** Something that must be installed locally is missing (ai-toolkit, python, GPU): exit 3. */
export class DependencyError extends HeadshotError {
  constructor(message: string, options: HeadshotErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? "E_DEPENDENCY", ExitCode.missingDependency, message, options);
  }
}

/** A remote API (Replicate) refused or failed: exit 4. */
export class RemoteApiError extends HeadshotError {
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: HeadshotErrorOptions & { code?: ErrorCode; status?: number; retryAfterMs?: number } = {},
  ) {
    super(options.code ?? "E_REMOTE", ExitCode.remoteApi, message, options);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), ...(this.status !== undefined ? { status: this.status } : {}) };
  }
}

/** A training or generation ran and failed (trainer crash, OOM, failed predictions): exit 5. */
export class JobFailedError extends HeadshotError {
  constructor(message: string, options: HeadshotErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? "E_JOB_FAILED", ExitCode.jobFailed, message, options);
  }
}

/** The selfie set cannot be used for training: exit 6. */
export class SelfiesRejectedError extends HeadshotError {
  constructor(message: string, options: HeadshotErrorOptions & { code?: ErrorCode } = {}) {
    super(options.code ?? "E_SELFIES_REJECTED", ExitCode.selfiesRejected, message, options);
  }
}

/** The user pressed Ctrl-C (or the process got SIGTERM): exit 130. */
export class InterruptedError extends HeadshotError {
  constructor(message = "Interrupted.", options: HeadshotErrorOptions = {}) {
    super("E_INTERRUPTED", ExitCode.interrupted, message, options);
  }
}

export function isHeadshotError(error: unknown): error is HeadshotError {
  return error instanceof HeadshotError;
}

/** True for the AbortError thrown by fetch, timers and execa when a signal fires. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || (error as { code?: string }).code === "ABORT_ERR");
}
