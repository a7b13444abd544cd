/**
 * The one place every byte headshot writes to stdout and stderr passes through (issue 14):
 * - S1: token-shaped values and the actual REPLICATE_API_TOKEN are redacted from every message,
 *   diagnostic code frame, error detail, JSON event and commander usage text, whatever file or
 *   server they came from (src/replicate/redact.ts holds the shapes);
 * - R3: once the `--json` summary line is out, stdout is closed: late progress or `image.done`
 *   lines from work still winding down are dropped, so the summary stays the last line;
 * - R5: a write after the reader went away (EPIPE, `| head`) is dropped instead of thrown.
 */
import { createRedactor, type Redactor } from "../replicate/redact.js";
import type { OutputStream } from "./reporter.js";

export interface GuardedStream extends OutputStream {
  /** No more writes reach the underlying stream (summary written, or the reader is gone). */
  close(): void;
  readonly closed: boolean;
}

/**
 * Wraps a stream so that `write` redacts and can be closed; every other property (isTTY, columns,
 * the cursor methods ora calls on a TTY) is the underlying stream's own.
 */
export function guardStream(stream: OutputStream, redact: Redactor): GuardedStream {
  let closed = false;
  const write = (chunk: unknown): unknown => {
    if (closed) return true;
    const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : String(chunk);
    try {
      return stream.write(redact(text));
    } catch (error) {
      // A synchronous EPIPE (the reader closed the pipe): nothing more can be shown.
      if ((error as NodeJS.ErrnoException).code === "EPIPE") {
        closed = true;
        return false;
      }
      throw error;
    }
  };
  const close = (): void => {
    closed = true;
  };
  // ora hooks `stream.write` on a TTY (sindresorhus/ora index.js #hookStream) and calls the write
  // it replaced: keep its hook here, never on the underlying stream, or the two would call each
  // other without end.
  let hooked: unknown;
  return new Proxy(stream as GuardedStream, {
    set(target, prop, value, receiver) {
      if (prop === "write") {
        hooked = value === write ? undefined : value;
        return true;
      }
      return Reflect.set(target, prop, value, receiver);
    },
    get(target, prop, receiver) {
      if (prop === "write") return hooked ?? write;
      if (prop === "close") return close;
      if (prop === "closed") return closed;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The redactor for this process: token shapes plus the configured token itself. */
export function outputRedactor(env: Readonly<Record<string, string | undefined>>): Redactor {
  return createRedactor(env.REPLICATE_API_TOKEN);
}
