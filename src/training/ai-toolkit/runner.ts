/**
 * Runs run.py with execa and turns its output into TrainEvents (house style: tsx's signal relay,
 * np's exec with stderr in the error). Argv array, cwd = the checkout, absolute paths only
 * (ostris/ai-toolkit README.md, requirements.txt). Keeps a ring buffer of the last output lines for error reports.
 *
 * Ctrl-C: run.py catches KeyboardInterrupt, prints "Job stopped" and exits 0 (ostris/ai-toolkit run.py), so
 * an interrupted run is recognised by our signal, not by the exit code. In a terminal the child
 * is in our process group and already got the SIGINT; we only send one ourselves if it has not
 * exited after `interruptGraceMs` (a second SIGINT would cut its cleanup short), and SIGKILL
 * after `forceKillAfterMs` more.
 */
import { basename } from "node:path";
import { execa } from "execa";
import type { TrainEvent } from "../types.js";
import { LineSplitter, parseProgressLine } from "./progress.js";
import { listSamples } from "./output.js";

export interface RunOptions {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  jobName: string;
  samplesDir: string;
  signal: AbortSignal;
  onEvent: (event: TrainEvent) => void;
  /**
   * How long to wait after the abort before sending SIGINT ourselves: 0 when the child did not
   * get the terminal's SIGINT. A function receives the abort reason.
   */
  interruptGraceMs?: number | ((reason: unknown) => number);
  forceKillAfterMs?: number;
  /** How often to look for new sample images. */
  samplePollMs?: number;
  tailLines?: number;
}

export interface RunOutcome {
  exitCode: number | undefined;
  signal: string | undefined;
  interrupted: boolean;
  /** Last output lines (stdout and stderr interleaved, progress bars left out). */
  lines: string[];
  resumedFrom?: { path: string; step?: number };
  samples: string[];
  spawnError?: string;
}

/** stdout milestones worth showing as phases (ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py). */
const PHASES: [RegExp, string][] = [
  [/^Loading (Flux|flux2\S*) model/i, "loading model"],
  [/^Quantizing (transformer|T5)/i, "quantizing"],
  [/^Dataset: /, "dataset"],
  [/^Caching latents for /, "caching latents"],
  [/^Generating baseline samples/, "sampling"],
];

/** Keeps the last `max` lines for the error report. */
function tail(lines: string[], max: number): (line: string) => void {
  return (line) => {
    lines.push(line);
    if (lines.length > max) lines.shift();
  };
}

/** stdout: resume notices, saved checkpoints and phases (section 5.2). */
function readStdoutLine(options: RunOptions, outcome: RunOutcome, remember: (line: string) => void, line: string): void {
  remember(line);
  options.onEvent({ type: "log", stream: "stdout", line });
  const resume = /^#### IMPORTANT RESUMING FROM (.+) ####$/.exec(line);
  if (resume?.[1]) outcome.resumedFrom = { path: resume[1] };
  const found = /^Found step (\d+) in metadata/.exec(line);
  if (found && outcome.resumedFrom) {
    outcome.resumedFrom.step = Number(found[1]);
    options.onEvent({ type: "phase", phase: "resume", message: `resuming from step ${found[1]} (${basename(outcome.resumedFrom.path)})` });
  }
  const saved = /^Saved checkpoint to (.+\.safetensors)$/.exec(line);
  if (saved?.[1]) {
    const m = /_(\d{9})\.safetensors$/.exec(saved[1]);
    options.onEvent({ type: "checkpoint", step: m ? Number(m[1]) : -1, path: saved[1] });
  }
  for (const [re, phase] of PHASES) if (re.test(line)) options.onEvent({ type: "phase", phase, message: line.trim() });
}

/** stderr: the training's tqdm bar becomes progress; other bars are dropped; the rest is logged. */
function readStderrLine(options: RunOptions, remember: (line: string) => void, line: string): void {
  const progress = parseProgressLine(line, options.jobName);
  if (progress) {
    const { step, total, percent, elapsedSeconds } = progress;
    options.onEvent({
      type: "progress",
      step,
      total,
      percent,
      elapsedSeconds,
      ...(progress.loss !== undefined ? { loss: progress.loss } : {}),
      ...(progress.lr !== undefined ? { lr: progress.lr } : {}),
      ...(progress.secondsPerStep !== undefined ? { secondsPerStep: progress.secondsPerStep } : {}),
      ...(progress.etaSeconds !== undefined ? { etaSeconds: progress.etaSeconds } : {}),
    });
    return;
  }
  // Other tqdm bars (downloads, latent caching, sampling) are noise for the error report.
  if (/\d+%\|[^|]*\|\s*\d+\/\d+ \[|^\s*\d+it \[/.test(line)) return;
  remember(line);
  options.onEvent({ type: "log", stream: "stderr", line });
}

export async function runAiToolkit(options: RunOptions): Promise<RunOutcome> {
  const lines: string[] = [];
  const remember = tail(lines, options.tailLines ?? 200);
  const outcome: RunOutcome = { exitCode: undefined, signal: undefined, interrupted: false, lines, samples: [] };
  const seenSamples = new Set((await listSamples(options.samplesDir)).map((s) => s.path));
  const pollSamples = async (): Promise<void> => {
    for (const sample of await listSamples(options.samplesDir)) {
      if (seenSamples.has(sample.path)) continue;
      seenSamples.add(sample.path);
      outcome.samples.push(sample.path);
      options.onEvent({ type: "sample", step: sample.step, path: sample.path });
    }
  };
  const onStdout = (line: string): void => readStdoutLine(options, outcome, remember, line);
  const onStderr = (line: string): void => readStderrLine(options, remember, line);

  if (options.signal.aborted) return { ...outcome, interrupted: true };
  const child = execa(options.file, options.args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    reject: false,
    buffer: false,
    stdin: "ignore",
    killSignal: "SIGINT",
    forceKillAfterDelay: false,
    encoding: "utf8",
  });
  const splitters = { out: new LineSplitter(), err: new LineSplitter() };
  child.stdout?.setEncoding("utf8");
  child.stderr?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => splitters.out.push(chunk).forEach(onStdout));
  child.stderr?.on("data", (chunk: string) => splitters.err.push(chunk).forEach(onStderr));

  const timers: NodeJS.Timeout[] = [];
  const onAbort = (): void => {
    outcome.interrupted = true;
    timers.push(
      setTimeout(() => {
        child.kill("SIGINT");
        timers.push(setTimeout(() => child.kill("SIGKILL"), options.forceKillAfterMs ?? 60_000));
      }, typeof options.interruptGraceMs === "function" ? options.interruptGraceMs(options.signal.reason) : (options.interruptGraceMs ?? 0)),
    );
  };
  options.signal.addEventListener("abort", onAbort, { once: true });
  const poller = setInterval(() => void pollSamples(), options.samplePollMs ?? 2000);
  try {
    const result = await child;
    splitters.out.flush().forEach(onStdout);
    splitters.err.flush().forEach(onStderr);
    outcome.exitCode = result.exitCode;
    outcome.signal = result.signal;
    if (result.failed && result.exitCode === undefined && !result.signal) {
      outcome.spawnError = (result as { code?: string }).code === "ENOENT" ? `${options.file} not found` : result.shortMessage;
    }
  } finally {
    options.signal.removeEventListener("abort", onAbort);
    clearInterval(poller);
    for (const t of timers) clearTimeout(t);
  }
  await pollSamples();
  return outcome;
}
