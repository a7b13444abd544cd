/**
 * Running the built binary (`bin/headshot.js`; `npm run build` first) from end-to-end tests: its
 * `--json` lines as they arrive, and `kill -9` at a moment chosen from them. Shared by the kill
 * tests (gen, polish), the batch fault suite, the folder-lock and local-generation runs.
 */
import { join } from "node:path";
import type { Readable } from "node:stream";
import { execa, type ResultPromise } from "execa";

export const BIN = join(process.cwd(), "bin", "headshot.js");

// Parsed JSON from the CLI and the emulator, read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/**
 * Calls `onLine` with each JSON line of `stream` as it arrives (blank lines skipped). A line that
 * is not JSON goes to `onNoise` when given; without it, JSON.parse throws (the test fails).
 */
export function onJsonLines(stream: Readable | null | undefined, onLine: (line: Json) => void, onNoise?: (text: string) => void): void {
  let pending = "";
  stream?.on("data", (chunk: Buffer) => {
    pending += chunk.toString("utf8");
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const part of parts) {
      if (!part.trim()) continue;
      let line: Json;
      try {
        line = JSON.parse(part) as Json;
      } catch (error) {
        if (!onNoise) throw error;
        onNoise(part);
        continue;
      }
      onLine(line);
    }
  });
}

/** Splits a finished run's stdout into its JSON lines. */
export function jsonLines(stdout: string): Json[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Json);
}

/**
 * Starts `headshot <args>` and SIGKILLs it once `shouldKill` says so (checked on every JSON line).
 * A run that hangs is stopped after `timeoutMs` (execa's timeout), so a failed test leaves nothing running.
 */
export async function runAndKill(args: string[], options: { cwd: string; env: Record<string, string>; timeoutMs?: number }, shouldKill: (lines: Json[]) => boolean): Promise<{ killed: boolean; lines: Json[] }> {
  const child: ResultPromise = execa("node", [BIN, ...args], { cwd: options.cwd, env: options.env, extendEnv: true, reject: false, buffer: false, timeout: options.timeoutMs ?? 240_000 });
  const lines: Json[] = [];
  let killed = false;
  onJsonLines(child.stdout, (line) => {
    lines.push(line);
    if (!killed && shouldKill(lines)) {
      killed = true;
      child.kill("SIGKILL");
    }
  });
  await child;
  return { killed, lines };
}
