/**
 * The process entry: wires real stdio, signals and prompts into main(), and sets the exit code.
 * Ctrl-C once aborts the shared signal so work stops cleanly (children stopped, partial state
 * kept for resume); a second Ctrl-C exits at once with 130.
 */
import { createInterface } from "node:readline/promises";
import { ExitCode } from "../errors.js";
import { main } from "./main.js";

export async function run(): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts > 1) {
      process.stderr.write("\nInterrupted again: exiting now.\n");
      process.exit(signal === "SIGTERM" ? 143 : ExitCode.interrupted);
    }
    controller.abort(new Error(`received ${signal}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A reader that went away (`headshot check ./selfies | head -3`) is not a crash: the stream's
  // EPIPE is handled here, and work in progress stops as on Ctrl-C, resumable (issue 14, R5).
  // Help and list commands have written everything by then and end with 0.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
      if (stream === process.stdout && !controller.signal.aborted) controller.abort(new Error("stdout was closed"));
    });
  }

  const stdinIsTTY = Boolean(process.stdin.isTTY);
  const confirm = stdinIsTTY
    ? async (question: string): Promise<boolean> => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        try {
          const answer = await rl.question(`${question} [y/N] `);
          return /^y(es)?$/i.test(answer.trim());
        } finally {
          rl.close();
        }
      }
    : undefined;

  const code = await main(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY,
    signal: controller.signal,
    ...(confirm ? { confirm } : {}),
  });
  process.exitCode = code;
  // main() has finished and cleaned up (children stopped, manifests saved). Whatever is still
  // running, such as a face-model worker in the middle of an image when Ctrl-C or SIGTERM came,
  // must not keep the process alive: exit once stdout and stderr have been flushed (issue 14, R1).
  setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
}

/** How long after main() returns lingering work may keep the process alive. */
const EXIT_GRACE_MS = 500;
