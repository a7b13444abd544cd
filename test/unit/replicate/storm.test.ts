/**
 * The storm: 100 predictions while 30% of creates are throttled, some GETs fail and some sockets
 * drop. All must complete, no input may be created twice, and the total number of requests must
 * stay within 1.5x of the same batch without faults. Polls answered "still running" are left out
 * of that count: how many there are depends on the machine's load (wall clock), not on the faults.
 */
import pLimit from "p-limit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson, downloadOutput, Predictions } from "../../../src/replicate/index.js";
import type { ReplicateEmulator } from "../../support/replicate-emulator/index.js";
import type { LoggedRequest } from "../../support/replicate-emulator/router.js";
import { sessionFor, tempDir, withEmulator } from "./helpers.js";

const COUNT = 100;
const POLL = { intervalMs: 40, maxIntervalMs: 80 } as const;

let emu: ReplicateEmulator;
beforeAll(async () => {
  emu = await withEmulator({ latencyMs: 150, imageLongSide: 16, seed: 7 });
});
afterAll(async () => emu.close());

/** A poll whose answer was "not finished yet": its count follows the clock, not the client's logic. */
function stillRunning(r: LoggedRequest): boolean {
  const status = (r.response as { status?: unknown } | undefined)?.status;
  return r.method === "GET" && r.route === "/predictions/{prediction_id}" && !r.fault && r.status === 200 && (status === "starting" || status === "processing");
}

async function batch(label: string, dir: string): Promise<{ ids: string[]; requests: number }> {
  emu.clearLog();
  const session = sessionFor(emu, { retry: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 8 } });
  const predictions = new Predictions(session, { recoveryDelayMs: 50 });
  const limit = pLimit(20);
  const ids = await Promise.all(
    Array.from({ length: COUNT }, (_, i) =>
      limit(async () => {
        const { prediction, outputs } = await predictions.run({ target: { model: "black-forest-labs/flux-dev-lora" }, input: { prompt: `${label} portrait of TOK`, seed: i } }, POLL);
        await downloadOutput(session, outputs[0] as string, { dir, name: `${label}-${i}`, expect: "image" });
        return prediction.id;
      }),
    ),
  );
  return { ids, requests: emu.requests.filter((r) => !stillRunning(r)).length };
}

describe("storm", () => {
  it("100 predictions complete under throttling, failing GETs and dropped sockets, without duplicates or request blow-up", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const calm = await batch("calm", dir);
      expect(new Set(calm.ids).size).toBe(COUNT);

      Object.assign(emu.faults, { throttleCreates: 0.3, retryAfterSeconds: 1, failGets: 0.08, dropSockets: 0.05, dropMode: "mixed" });
      const storm = await batch("storm", dir);
      const faults = emu.requests.filter((r) => r.fault);
      const byKind = (k: string) => faults.filter((r) => r.fault === k).length;
      // The storm really happened.
      expect(byKind("throttled")).toBeGreaterThanOrEqual(15);
      expect(byKind("server_error")).toBeGreaterThan(5);
      expect(byKind("dropped_before") + byKind("dropped_after")).toBeGreaterThan(3);

      expect(new Set(storm.ids).size).toBe(COUNT);
      const stormJobs = emu.state.jobOrder.filter((j) => String(j.input.prompt).startsWith("storm"));
      const perInput = new Map<string, number>();
      for (const job of stormJobs) perInput.set(canonicalJson(job.input), (perInput.get(canonicalJson(job.input)) ?? 0) + 1);
      expect(perInput.size).toBe(COUNT);
      expect([...perInput.values()].every((n) => n === 1)).toBe(true);
      process.stderr.write(`storm: ${storm.requests} requests vs ${calm.requests} calm; throttled ${byKind("throttled")}, 5xx ${byKind("server_error")}, dropped ${byKind("dropped_before") + byKind("dropped_after")}\n`);
      expect(storm.requests).toBeLessThanOrEqual(calm.requests * 1.5);
    } finally {
      Object.assign(emu.faults, { throttleCreates: 0, failGets: 0, dropSockets: 0 });
      await cleanup();
    }
  });
});
