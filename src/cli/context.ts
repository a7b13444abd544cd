/**
 * What every command receives: injected process facts (so tests run `main` in-process with fakes
 * only at the boundary), the reporter, global flags and lazily loaded settings.
 */
import { InterruptedError } from "../errors.js";
import { resolveGlobalSettings, type Env, type GlobalSettings } from "../settings/settings.js";
import type { UseCaseIo } from "../use-case.js";
import type { OutputStream, Reporter } from "./reporter.js";

export interface CliDeps {
  cwd: string;
  env: Env;
  stdout: OutputStream;
  stderr: OutputStream;
  stdinIsTTY: boolean;
  /** Fires on Ctrl-C / SIGTERM; long operations pass it down and stop cleanly. */
  signal: AbortSignal;
  /** Asks a yes/no question on an interactive terminal. Absent when there is no TTY. */
  confirm?: (question: string) => Promise<boolean>;
  now?: () => Date;
}

export interface GlobalOptions {
  json: boolean;
  color: boolean;
  verbose: boolean;
}

/** A command's action, and the wrapper main() puts around each (context, errors, exit code). */
export type Action = (ctx: CommandContext, ...args: unknown[]) => Promise<void>;
export type Wrap = (action: Action) => (...args: unknown[]) => Promise<void>;

export class CommandContext {
  private settingsPromise: Promise<GlobalSettings> | undefined;

  constructor(
    readonly deps: CliDeps,
    readonly reporter: Reporter,
    readonly globals: GlobalOptions,
  ) {}

  get cwd(): string {
    return this.deps.cwd;
  }

  get env(): Env {
    return this.deps.env;
  }

  get signal(): AbortSignal {
    return this.deps.signal;
  }

  now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /**
   * What a use case gets from the command: the shared signal, the clock, the event sink, and a
   * prompt only when someone can answer it (an interactive terminal, not CI).
   */
  io<E>(onEvent: (event: E) => void): UseCaseIo<E> {
    const confirm = this.reporter.interactive ? this.deps.confirm : undefined;
    return { signal: this.deps.signal, onEvent, now: () => this.now(), ...(confirm ? { confirm } : {}) };
  }

  /** Throws InterruptedError when Ctrl-C was pressed; call between steps of long work. */
  throwIfInterrupted(): void {
    if (this.deps.signal.aborted) throw new InterruptedError();
  }

  /** Global settings (project config found from cwd), loaded once, only by commands that need them. */
  settings(flags: { home?: string; aiToolkit?: string } = {}): Promise<GlobalSettings> {
    this.settingsPromise ??= (async () => {
      // Loaded lazily: the project config pulls in yaml and zod, which --help does not need.
      const { findProjectConfig, loadProjectConfig } = await import("../settings/project-config.js");
      const path = await findProjectConfig(this.deps.cwd);
      const projectConfig = path ? await loadProjectConfig(path) : undefined;
      return resolveGlobalSettings({ cwd: this.deps.cwd, env: this.deps.env, projectConfig, flags });
    })();
    return this.settingsPromise;
  }
}
