/** Shared set-up for the Replicate layer tests: an emulator and a session pointed at it. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createReplicateSession, RateLimiter, type ReplicateClientOptions, type ReplicateSession } from "../../../src/replicate/index.js";
import { startReplicateEmulator, type EmulatorOptions, type ReplicateEmulator } from "../../support/replicate-emulator/index.js";

/** Fast retries: the emulator's Retry-After still applies (it is honoured, not shortened). */
export const FAST_RETRY = { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 6 } as const;

export function sessionFor(emu: ReplicateEmulator, options: ReplicateClientOptions = {}): ReplicateSession {
  return createReplicateSession({
    env: { REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl },
    retry: FAST_RETRY,
    // A fresh limiter per test: the shared one would couple tests.
    limiter: new RateLimiter(),
    ...options,
  });
}

export async function withEmulator(options: EmulatorOptions = {}): Promise<ReplicateEmulator> {
  return startReplicateEmulator({ latencyMs: 120, trainingMs: 400, ...options });
}

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "headshot-replicate-"));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Fast polling for tests (the emulator runs predictions in ~100 ms). */
export const FAST_POLL = { intervalMs: 20, maxIntervalMs: 60 } as const;
