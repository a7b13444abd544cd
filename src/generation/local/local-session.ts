/**
 * One local generator's Python process while it lives (local-generator.ts starts it): the line
 * protocol of protocol.ts in both directions, one job at a time, the wait for the model to load,
 * and every way it ends (a job's error, the child's exit, Ctrl-C, close) as a typed error for
 * whatever waits.
 */
import { InterruptedError, JobFailedError, type HeadshotError } from "../../errors.js";
import { explainFailure, explainExit } from "./local-errors.js";
import type { MemoryMode } from "./memory-mode.js";
import type { ErrorMessage, LocalModelId, PythonMessage, ReadyMessage } from "./protocol.js";
import { PythonProcess, type ExitInfo } from "./python-process.js";

/** What the running process needs of LocalGeneratorOptions (local-generator.ts). */
export interface SessionOptions {
  /** ai-toolkit's venv python (AI_TOOLKIT_PYTHON); it has torch, diffusers and CUDA. */
  python: string;
  model: LocalModelId;
  /** CUDA_VISIBLE_DEVICES for the child, e.g. "1". */
  gpu?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** false: `env` is the child's whole environment instead of additions to Node's (python-process.ts). */
  extendEnv?: boolean;
  /** Ctrl-C: stops the child and rejects whatever is pending with InterruptedError. */
  signal?: AbortSignal;
  onEvent?: (event: LocalGeneratorEvent) => void;
  /** Give up loading after this long without any sign of life (loading line or stderr output). */
  readyTimeoutMs?: number;
  /** Wait after the shutdown line before SIGTERM, and after SIGTERM before SIGKILL. */
  graceMs?: number;
  killAfterMs?: number;
}

export interface LocalJob {
  /** Unique within the batch; echoed in progress and image lines. */
  id: string;
  prompt: string;
  width: number;
  height: number;
  steps: number;
  guidance: number;
  seed: number;
  loraScale?: number;
  /** Absolute path of the image to write (atomically, by the Python side). */
  out: string;
  /** Image-to-image (polish's face pass): repaint this PNG at this strength, inpainting under `mask` when given. */
  image?: string;
  mask?: string;
  strength?: number;
}

export interface LocalImage {
  path: string;
  /** The size actually generated (floored to multiples of 16). */
  width: number;
  height: number;
  seed: number;
}

export interface GenerateOptions {
  /** Aborting stops the whole Python process: a diffusers call cannot be cancelled halfway otherwise. */
  signal?: AbortSignal;
  onProgress?: (step: number, total: number) => void;
}

export type LocalGeneratorEvent =
  | ({ type: "memory"; freeMiB: number | undefined } & MemoryMode)
  | { type: "spawn"; pid: number | undefined; args: string[] }
  | PythonMessage
  | { type: "garbage"; line: string; reason: string }
  | { type: "stderr"; line: string }
  | { type: "exit"; code: number | undefined; signal: string | undefined };

const DEFAULTS = { readyTimeoutMs: 30 * 60_000, graceMs: 5_000, killAfterMs: 5_000 };

interface Pending {
  id: string;
  job: LocalJob;
  resolve: (image: LocalImage) => void;
  reject: (error: Error) => void;
  onProgress: ((step: number, total: number) => void) | undefined;
}

/** The running Python process, its one pending job and how it ended. */
export class Session {
  private process!: PythonProcess;
  private ready: ReadyMessage | undefined;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private fatal: HeadshotError | undefined;
  private loadError: ErrorMessage | undefined;
  private readyWaiter: { resolve: (r: ReadyMessage) => void; reject: (e: Error) => void } | undefined;
  private lastSignOfLife = Date.now();
  private closing: Promise<void> | undefined;
  private readonly onAbort = () => void this.interrupt();

  constructor(
    private readonly options: SessionOptions,
    private readonly memory: MemoryMode,
    private readonly base: string,
  ) {}

  start(args: string[]): void {
    const env: Record<string, string | undefined> = { ...this.options.env };
    if (this.options.gpu !== undefined) env.CUDA_VISIBLE_DEVICES = this.options.gpu;
    this.process = new PythonProcess({
      python: this.options.python,
      args,
      ...(this.options.cwd ? { cwd: this.options.cwd } : {}),
      env,
      ...(this.options.extendEnv !== undefined ? { extendEnv: this.options.extendEnv } : {}),
      onMessage: (message) => this.onMessage(message),
      onGarbage: (line, reason) => this.emit({ type: "garbage", line, reason }),
      onStderrLine: (line) => this.emit({ type: "stderr", line }),
      onActivity: () => {
        this.lastSignOfLife = Date.now();
      },
    });
    this.emit({ type: "spawn", pid: this.process.pid, args });
    this.options.signal?.addEventListener("abort", this.onAbort, { once: true });
    void this.process.exited.then((exit) => this.onExit(exit));
  }

  waitReady(): Promise<ReadyMessage> {
    return new Promise<ReadyMessage>((resolve, reject) => {
      const timeoutMs = this.options.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs;
      const check = setInterval(() => {
        if (Date.now() - this.lastSignOfLife < timeoutMs) return;
        this.fail(
          new JobFailedError(`The local generator showed no progress loading ${this.options.model} for ${Math.round(timeoutMs / 1000)} s.`, {
            code: "E_LOCAL_GEN_TIMEOUT",
            hint: "A first run downloads tens of GB: pre-download with `hf download " + this.base + "` and re-run.",
            details: this.process.stderrTail().slice(-15),
          }),
        );
      }, Math.min(1_000, timeoutMs));
      this.readyWaiter = {
        resolve: (r) => {
          clearInterval(check);
          resolve(r);
        },
        reject: (e) => {
          clearInterval(check);
          reject(e);
        },
      };
    });
  }

  enqueue(job: LocalJob, options: GenerateOptions): Promise<LocalImage> {
    const run = this.queue.then(() => this.runJob(job, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private runJob(job: LocalJob, options: GenerateOptions): Promise<LocalImage> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (options.signal?.aborted) return Promise.reject(new InterruptedError());
    return new Promise<LocalImage>((resolve, reject) => {
      const onJobAbort = () => void this.interrupt();
      options.signal?.addEventListener("abort", onJobAbort, { once: true });
      const cleanup = () => options.signal?.removeEventListener("abort", onJobAbort);
      this.pending = {
        id: job.id,
        job,
        resolve: (image) => {
          cleanup();
          resolve(image);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
        onProgress: options.onProgress,
      };
      const sent = this.process.send({
        type: "job",
        id: job.id,
        prompt: job.prompt,
        width: job.width,
        height: job.height,
        steps: job.steps,
        guidance: job.guidance,
        seed: job.seed,
        lora_scale: job.loraScale ?? 1,
        out: job.out,
        ...(job.image !== undefined ? { image: job.image, mask: job.mask, strength: job.strength } : {}),
      });
      if (!sent) this.settle((p) => p.reject(this.fatal ?? new JobFailedError("The local generator is not running.", { code: "E_LOCAL_GEN_STOPPED" })));
    });
  }

  private onMessage(message: PythonMessage): void {
    this.emit(message);
    switch (message.type) {
      case "ready":
        this.ready = message;
        this.readyWaiter?.resolve(message);
        return;
      case "progress":
        if (this.pending?.id === message.id) this.pending.onProgress?.(message.step, message.total);
        return;
      case "image":
        if (this.pending?.id === message.id) {
          const { path, width, height, seed } = message;
          this.settle((p) => p.resolve({ path, width, height, seed }));
        }
        return;
      case "error": {
        if (!this.ready) {
          // A load failure: the child exits right after (code 3); report it with its stderr then.
          this.loadError = message;
          return;
        }
        const target = message.id === undefined || this.pending?.id === message.id ? this.pending : undefined;
        if (target) {
          const error = explainFailure(message, { model: this.options.model, base: this.base, memory: this.memory, job: target.job, stderr: this.process.stderrTail() });
          this.settle((p) => p.reject(error));
        }
        return;
      }
      default:
        return;
    }
  }

  private onExit(exit: ExitInfo): void {
    this.options.signal?.removeEventListener("abort", this.onAbort);
    this.emit({ type: "exit", code: exit.code, signal: exit.signal });
    const context = { model: this.options.model, base: this.base, memory: this.memory, stderr: this.process.stderrTail(), python: this.options.python };
    const error =
      this.fatal ??
      (this.loadError ? explainFailure(this.loadError, context) : explainExit(exit, { ...context, duringJob: this.pending?.job, loading: !this.ready }));
    this.fatal = error;
    this.readyWaiter?.reject(error);
    this.settle((p) => p.reject(error));
  }

  private settle(action: (pending: Pending) => void): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) action(pending);
  }

  private emit(event: LocalGeneratorEvent): void {
    this.options.onEvent?.(event);
  }

  /** Records the error, stops the child, and lets onExit reject whatever waits. */
  private fail(error: HeadshotError): void {
    this.fatal ??= error;
    void this.stop(0);
  }

  private interrupt(): Promise<void> {
    this.fail(new InterruptedError());
    return this.closing ?? Promise.resolve();
  }

  close(): Promise<void> {
    this.fatal ??= new JobFailedError("The local generator was closed.", { code: "E_LOCAL_GEN_CLOSED" });
    return this.stop(this.pending ? 0 : (this.options.graceMs ?? DEFAULTS.graceMs));
  }

  private stop(graceMs: number): Promise<void> {
    this.closing ??= this.process
      .stop({ graceMs, killAfterMs: this.options.killAfterMs ?? DEFAULTS.killAfterMs })
      .then(() => undefined);
    return this.closing;
  }
}

