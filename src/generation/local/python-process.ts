/**
 * The long-lived Python child: spawn with execa (argv array, never a shell), split stdout into
 * protocol lines, keep the tail of stderr for error reports, and stop it politely (shutdown line,
 * then SIGTERM, then SIGKILL) so a 30 GB model is never left holding the GPU.
 */
import { execa, type ResultPromise } from "execa";
import { encodeMessage, LineSplitter, parseProtocolLine, type NodeMessage, type PythonMessage } from "./protocol.js";

export interface ExitInfo {
  /** Process exit code, undefined when killed by a signal or never started. */
  code: number | undefined;
  signal: string | undefined;
  /** Set when the process could not be started at all (ENOENT, EACCES). */
  spawnError: string | undefined;
}

export interface PythonProcessOptions {
  python: string;
  args: string[];
  cwd?: string;
  /** Added to the parent environment (or the whole environment with `extendEnv: false`). */
  env?: Record<string, string | undefined>;
  /**
   * false: `env` is the child's entire environment. The CLI passes its own (filtered) environment
   * this way, so a token in Node's process.env never reaches Python.
   */
  extendEnv?: boolean;
  onMessage: (message: PythonMessage) => void;
  /** A stdout line that is not a protocol message: reported, never fatal. */
  onGarbage: (line: string, reason: string) => void;
  onStderrLine?: (line: string) => void;
  /** Any output at all, even half a line (a download progress bar redrawing): the child is alive. */
  onActivity?: () => void;
  /** How many stderr lines to keep for error reports. */
  stderrTailLines?: number;
}

export interface StopOptions {
  /** Wait this long after the shutdown line before SIGTERM. */
  graceMs: number;
  /** Wait this long after SIGTERM before SIGKILL. */
  killAfterMs: number;
}

export class PythonProcess {
  readonly exited: Promise<ExitInfo>;
  private readonly child: ResultPromise;
  private readonly tail: string[] = [];
  private readonly tailMax: number;
  private exitInfo: ExitInfo | undefined;

  constructor(options: PythonProcessOptions) {
    this.tailMax = options.stderrTailLines ?? 40;
    this.child = execa(options.python, options.args, {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: { PYTHONUNBUFFERED: "1", PYTHONIOENCODING: "utf-8", ...options.env },
      extendEnv: options.extendEnv ?? true,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      buffer: false,
      reject: false,
      // Never leave the child behind if Node itself exits.
      cleanup: true,
    });
    // Writing to a child that just died raises EPIPE on stdin; the exit is reported through `exited`.
    this.child.stdin?.on("error", () => undefined);

    const stdout = new LineSplitter((line) => {
      const parsed = parseProtocolLine(line);
      if (parsed.ok) options.onMessage(parsed.message);
      else options.onGarbage(parsed.line, parsed.reason);
    });
    const stderr = new LineSplitter(
      (line) => {
        this.tail.push(line);
        if (this.tail.length > this.tailMax) this.tail.shift();
        options.onStderrLine?.(line);
      },
      { carriageReturns: true },
    );
    const stdoutDone = new Promise<void>((resolve) => {
      if (!this.child.stdout) return resolve();
      this.child.stdout.on("data", (chunk: Buffer) => {
        options.onActivity?.();
        stdout.push(chunk);
      });
      this.child.stdout.on("end", () => resolve());
      this.child.stdout.on("error", () => resolve());
      this.child.stdout.on("close", () => resolve());
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      options.onActivity?.();
      stderr.push(chunk);
    });

    this.exited = this.child.then(async (result) => {
      // Deliver every line the child wrote before announcing its exit.
      await stdoutDone;
      stdout.end();
      stderr.end();
      const spawnError =
        result.failed && result.exitCode === undefined && !result.signal ? (result.cause as NodeJS.ErrnoException | undefined)?.code ?? result.shortMessage : undefined;
      this.exitInfo = { code: result.exitCode, signal: result.signal, spawnError };
      return this.exitInfo;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** The last lines the child wrote to stderr (tracebacks end up here). */
  stderrTail(): string[] {
    return [...this.tail];
  }

  send(message: NodeMessage): boolean {
    const stdin = this.child.stdin;
    if (this.exitInfo || !stdin || stdin.destroyed || stdin.writableEnded) return false;
    stdin.write(encodeMessage(message));
    return true;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exitInfo) this.child.kill(signal);
  }

  /** shutdown line -> graceMs -> SIGTERM -> killAfterMs -> SIGKILL. Resolves when the child is gone. */
  async stop(options: StopOptions): Promise<ExitInfo> {
    if (this.exitInfo) return this.exitInfo;
    if (this.send({ type: "shutdown" })) this.child.stdin?.end();
    if (await this.waitExit(options.graceMs)) return this.exited;
    this.kill("SIGTERM");
    if (await this.waitExit(options.killAfterMs)) return this.exited;
    this.kill("SIGKILL");
    return this.exited;
  }

  private async waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([this.exited.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
