/**
 * A local stand-in for Replicate's HTTP API (https://replicate.com/docs/reference/http), for unit,
 * command and end-to-end tests. Point the real `replicate` client (or headshot, via
 * REPLICATE_BASE_URL and REPLICATE_API_TOKEN) at `emu.baseUrl`.
 *
 *   const emu = await startReplicateEmulator({ latencyMs: 200 });
 *   process.env-style: { REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl }
 *   emu.faults.throttleCreates = 0.3;        // runtime fault injection (faults.ts)
 *   emu.requests                             // request log (router.ts LoggedRequest)
 *   await emu.close();
 *
 * Seeded: account jane-doe; black-forest-labs/flux-dev-lora (version "hidden", array output),
 * flux-2-dev and flux-2-pro (single URI output), flux-2-klein-4b (field `images`, array output);
 * ostris/flux-dev-lora-trainer (64-hex latest version, trainer schema). Outputs are real images
 * and a real weights tar, served under <origin>/delivery/ without auth.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Faults } from "./faults.js";
import { handle, type LoggedRequest } from "./router.js";
import { EmulatorState, type EmulatorOptions } from "./state.js";

export type { EmulatorOptions, Faults, LoggedRequest };
export { DEFAULT_TOKEN } from "./state.js";
export { TRAINER_VERSION } from "./catalog.js";
export { buildSafetensors, buildWeightsTar } from "./outputs.js";

export interface ReplicateEmulator {
  /** http://127.0.0.1:PORT/v1 — use as REPLICATE_BASE_URL. */
  readonly baseUrl: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly token: string;
  /** Every request received, in order (auth never recorded, only whether it was valid). */
  readonly requests: LoggedRequest[];
  /** Mutable at runtime. */
  readonly faults: Faults;
  /** Direct access to the emulated world (models, jobs, files), for assertions. */
  readonly state: EmulatorState;
  /** Change how long predictions (and optionally trainings) take from now on. */
  setPredictionDuration(latencyMs: number, startingFraction?: number): void;
  setTrainingDuration(ms: number): void;
  /** Change data retention (Replicate: 1 hour) for existing and new jobs. */
  setRetention(ms: number): void;
  /** Requests matching method and a path regexp (path without the /v1 prefix). */
  count(method: string, path: RegExp): number;
  clearLog(): void;
  close(): Promise<void>;
}

export async function startReplicateEmulator(options: EmulatorOptions = {}): Promise<ReplicateEmulator> {
  const state = new EmulatorState(options);
  const requests: LoggedRequest[] = [];
  const server: Server = createServer((req, res) => {
    handle(state, requests, req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ detail: `Emulator bug: ${String(error)}` }));
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  state.origin = `http://127.0.0.1:${port}`;
  return {
    baseUrl: state.baseUrl,
    origin: state.origin,
    token: state.token,
    requests,
    faults: state.faults,
    state,
    setPredictionDuration(latencyMs, startingFraction) {
      state.latencyMs = latencyMs;
      if (startingFraction !== undefined) state.startingFraction = startingFraction;
    },
    setTrainingDuration(ms) {
      state.trainingMs = ms;
    },
    setRetention(ms) {
      state.retentionMs = ms;
    },
    count(method, path) {
      return requests.filter((r) => r.method === method && path.test(r.path.replace(/^\/v1/, ""))).length;
    },
    clearLog() {
      requests.length = 0;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
