/**
 * One test per fault of the `replicate` client listed in replicate/replicate-javascript lib/util.js; replicate/replicate-javascript lib/stream.js; replicate/replicate-javascript issues: each would
 * fail if our layer let that fault through.
 */
import { createServer } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { InterruptedError } from "../../../src/errors.js";
import { downloadOutput, Predictions, uploadFile, type RetryEvent } from "../../../src/replicate/index.js";
import { defaultFaults } from "../../support/replicate-emulator/faults.js";
import type { ReplicateEmulator } from "../../support/replicate-emulator/index.js";
import { FAST_POLL, sessionFor, tempDir, withEmulator } from "./helpers.js";

let emu: ReplicateEmulator;
beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(async () => emu.close());
afterEach(() => {
  Object.assign(emu.faults, defaultFaults());
  emu.setPredictionDuration(120, 0.3);
});

const MODEL = { model: "black-forest-labs/flux-dev-lora" } as const;

function creates(): Array<{ at: number; status?: number; fault?: string }> {
  return emu.requests.filter((r) => r.method === "POST" && /\/predictions$/.test(r.path)).map((r) => ({ at: r.at, status: r.status, ...(r.fault ? { fault: r.fault } : {}) }));
}

/** A port with nothing listening: connections are refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("429: backoff that honours Retry-After and 'resets in ~Ns' (client: 6 immediate retries)", () => {
  it("waits at least Retry-After before re-sending a throttled create", async () => {
    emu.clearLog();
    emu.faults.throttleNextCreates = 1;
    emu.faults.retryAfterSeconds = 1;
    const events: RetryEvent[] = [];
    const p = await new Predictions(sessionFor(emu, { onRetry: (e) => events.push(e) })).create({ target: MODEL, input: { prompt: "a" } });
    const sent = creates();
    expect(sent).toHaveLength(2);
    expect(sent[0]?.status).toBe(429);
    expect((sent[1]?.at ?? 0) - (sent[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
    expect(events[0]).toMatchObject({ status: 429, reason: "throttled" });
    expect(events[0]?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(emu.state.jobs.has(p.id)).toBe(true);
  });

  it("reads the wait from the detail text when there is no Retry-After header", async () => {
    emu.clearLog();
    emu.faults.throttleNextCreates = 1;
    emu.faults.retryAfterSeconds = null;
    emu.faults.resetsInSeconds = 1;
    await new Predictions(sessionFor(emu)).create({ target: MODEL, input: { prompt: "b" } });
    const sent = creates();
    expect(sent).toHaveLength(2);
    expect((sent[1]?.at ?? 0) - (sent[0]?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it("gives up after maxAttempts requests in total (not 6 per client retry) with a typed 429 error", async () => {
    emu.clearLog();
    emu.faults.throttleCreates = 1;
    emu.faults.retryAfterSeconds = 0;
    emu.faults.resetsInSeconds = 0;
    const error = await new Predictions(sessionFor(emu, { retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 4 } }))
      .create({ target: MODEL, input: { prompt: "c" } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_429", exitCode: 4, status: 429 });
    expect((error as Error).message).toContain("after 4 attempts");
    expect((error as { hint: string }).hint).toMatch(/600 prediction creates\/min/);
    expect(creates()).toHaveLength(4);
  });
});

describe("a create is never blindly re-sent (client: POST re-sent after a network error)", () => {
  it("socket dropped after the server created it: finds the prediction instead of creating another", async () => {
    emu.clearLog();
    emu.faults.dropNextCreates = 1;
    emu.faults.dropMode = "after";
    const recoveries: Array<{ found: string | null }> = [];
    const predictions = new Predictions(sessionFor(emu), { recoveryDelayMs: 10, onRecovery: (e) => recoveries.push(e) });
    const p = await predictions.create({ target: MODEL, input: { prompt: "dropped after", seed: 11 } });
    expect(creates()).toHaveLength(1);
    expect(emu.requests.find((r) => r.fault === "dropped_after")?.createdId).toBe(p.id);
    expect(recoveries).toEqual([{ found: p.id, attempt: 1 }]);
    expect(emu.count("GET", /^\/predictions$/)).toBe(1);
    const sameInput = emu.state.jobOrder.filter((j) => j.input.prompt === "dropped after");
    expect(sameInput).toHaveLength(1);
  });

  it("socket dropped before the server acted: looks, finds nothing, creates exactly once more", async () => {
    emu.clearLog();
    emu.faults.dropNextCreates = 1;
    emu.faults.dropMode = "before";
    const p = await new Predictions(sessionFor(emu), { recoveryDelayMs: 10 }).create({ target: MODEL, input: { prompt: "dropped before" } });
    expect(creates().map((c) => c.fault ?? c.status)).toEqual(["dropped_before", 201]);
    expect(emu.state.jobOrder.filter((j) => j.input.prompt === "dropped before").map((j) => j.id)).toEqual([p.id]);
  });

  it("a 500 after the server committed the create is recovered the same way", async () => {
    emu.clearLog();
    emu.faults.failCreatesAfterCommit = 1;
    const p = await new Predictions(sessionFor(emu), { recoveryDelayMs: 10 }).create({ target: MODEL, input: { prompt: "500 after commit" } });
    expect(creates()).toHaveLength(1);
    expect(emu.state.jobOrder.filter((j) => j.input.prompt === "500 after commit").map((j) => j.id)).toEqual([p.id]);
  });

  it("a create whose answer never comes (timeout) is found, not re-created", async () => {
    emu.clearLog();
    emu.faults.hangNextCreates = 1;
    const session = sessionFor(emu, { retry: { baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 300 } });
    const p = await new Predictions(session, { recoveryDelayMs: 10 }).create({ target: MODEL, input: { prompt: "hung" } });
    expect(creates()).toHaveLength(1);
    expect(emu.requests.find((r) => r.fault === "hung")?.createdId).toBe(p.id);
  });

  it("a create that was refused at connect time (ECONNREFUSED) is simply retried", async () => {
    emu.clearLog();
    const port = await closedPort();
    let calls = 0;
    // The network boundary: the first connection goes to a port where nothing listens.
    const flakyNetwork = (input: string | URL | Request, init?: RequestInit) => {
      calls++;
      if (calls === 1) return fetch(String(input).replace(emu.origin, `http://127.0.0.1:${port}`), init);
      return fetch(input, init);
    };
    const p = await new Predictions(sessionFor(emu, { fetch: flakyNetwork })).create({ target: MODEL, input: { prompt: "refused" } });
    expect(calls).toBe(2);
    expect(creates()).toHaveLength(1);
    expect(emu.state.jobs.has(p.id)).toBe(true);
  });

  it("a failed GET is retried with backoff and does not surface", async () => {
    emu.clearLog();
    const predictions = new Predictions(sessionFor(emu));
    const created = await predictions.create({ target: MODEL, input: { prompt: "flaky get" } });
    emu.faults.failNextGets = 3;
    const done = await predictions.wait(created, FAST_POLL);
    expect(done.status).toBe("succeeded");
    const failed = emu.requests.filter((r) => r.fault === "server_error");
    expect(failed).toHaveLength(3);
    expect(failed.every((r) => (r.status ?? 0) >= 500)).toBe(true);
  });
});

describe("terminal statuses (client: polls forever on aborted; canceled resolves silently)", () => {
  it("aborted ends the wait with a typed error", async () => {
    emu.faults.abortPrediction = (input) => input.prompt === "abort me";
    const predictions = new Predictions(sessionFor(emu));
    const created = await predictions.create({ target: MODEL, input: { prompt: "abort me" } });
    const done = await predictions.wait(created, { ...FAST_POLL, timeoutMs: 5000 });
    expect(done.status).toBe("aborted");
    expect(() => predictions.assertSucceeded(done)).toThrow(expect.objectContaining({ code: "E_REPLICATE_PREDICTION_ABORTED", exitCode: 5 }));
  });

  it("failed carries the error and the tail of the logs", async () => {
    emu.faults.failPrediction = (input) => (input.prompt === "boom" ? "CUDA out of memory" : null);
    const error = await new Predictions(sessionFor(emu)).run({ target: MODEL, input: { prompt: "boom" } }, FAST_POLL).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_PREDICTION_FAILED", exitCode: 5 });
    expect((error as Error).message).toContain("CUDA out of memory");
    expect((error as { details: string[] }).details.join("\n")).toContain("Using seed:");
  });

  it("NSFW: every image flagged fails with the safety-checker hint; some flagged gives fewer outputs", async () => {
    emu.faults.nsfw = (input) => (input.prompt === "all nsfw" ? true : input.prompt === "one nsfw" ? 1 : false);
    const predictions = new Predictions(sessionFor(emu));
    const error = await predictions.run({ target: MODEL, input: { prompt: "all nsfw", num_outputs: 2 } }, FAST_POLL).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_NSFW" });
    expect((error as { hint: string }).hint).toMatch(/prompt or seed/);
    const partial = await predictions.run({ target: MODEL, input: { prompt: "one nsfw", num_outputs: 3 } }, FAST_POLL);
    expect(partial.outputs).toHaveLength(2);
  });

  it("Ctrl-C during the wait cancels the prediction on Replicate and throws InterruptedError", async () => {
    emu.setPredictionDuration(3000, 0.1);
    emu.clearLog();
    const predictions = new Predictions(sessionFor(emu));
    const created = await predictions.create({ target: MODEL, input: { prompt: "interrupt" } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const error = await predictions.wait(created, { ...FAST_POLL, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(emu.count("POST", new RegExp(`^/predictions/${created.id}/cancel$`))).toBe(1);
    expect((await predictions.get(created.id)).status).toBe("canceled");
  });
});

describe("uploads never fall back to data URIs (client: stack overflow from ~512 KB)", () => {
  it("a failing files API gives a typed error and sends no data URI anywhere", async () => {
    emu.clearLog();
    emu.faults.failUploads = 1;
    const big = new Uint8Array(600 * 1024).fill(7);
    const error = await uploadFile(sessionFor(emu), { bytes: big, filename: "photos.zip", contentType: "application/zip" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_UPLOAD_FAILED", exitCode: 4 });
    expect(JSON.stringify(emu.requests.map((r) => r.body))).not.toContain("data:");
    expect(emu.count("POST", /\/predictions$/)).toBe(0);
    // It looked for a landed upload (by sha256) before trying once more.
    expect(emu.count("GET", /^\/files$/)).toBe(1);
    expect(emu.count("POST", /^\/files$/)).toBe(2);
  });

  it("checks the size before sending, and maps the server's 413", async () => {
    emu.clearLog();
    const tooBig = await uploadFile(sessionFor(emu), { bytes: new Uint8Array(2048), filename: "x.zip", maxBytes: 1024 }).catch((e: unknown) => e);
    expect(tooBig).toMatchObject({ code: "E_REPLICATE_UPLOAD_TOO_LARGE", exitCode: 2 });
    expect(emu.requests).toHaveLength(0);
    const small = await withEmulator({ maxFileBytes: 1000 });
    try {
      const error = await uploadFile(sessionFor(small), { bytes: new Uint8Array(4000).fill(1), filename: "x.zip" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "E_REPLICATE_413", status: 413 });
      expect((error as { hint: string }).hint).toMatch(/100 MiB/);
    } finally {
      await small.close();
    }
  });

  it("uploads a zip through multipart and returns its URL with the right checksum", async () => {
    const bytes = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4]);
    const file = await uploadFile(sessionFor(emu), { bytes, filename: "photos.zip", contentType: "application/zip" });
    expect(file.urls.get).toBe(`${emu.baseUrl}/files/${file.id}`);
    expect(file.size).toBe(8);
    expect(emu.state.files.get(file.id)?.bytes.equals(Buffer.from(bytes))).toBe(true);
  });
});

describe("downloads surface HTTP errors (client: FileOutput hides them behind a ReferenceError)", () => {
  it("a failing output host gives E_REPLICATE_5XX after retries, and no file is left behind", async () => {
    const session = sessionFor(emu, { retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 } });
    const { outputs } = await new Predictions(session).run({ target: MODEL, input: { prompt: "dl" } }, FAST_POLL);
    emu.faults.failDownloads = 1;
    const { dir, cleanup } = await tempDir();
    try {
      const error = await downloadOutput(session, outputs[0] as string, { dir, name: "x", expect: "image" }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "E_REPLICATE_5XX", status: 503 });
      const { readdir } = await import("node:fs/promises");
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it("refuses a non-https URL on a foreign host, and a body that is not the announced type", async () => {
    const session = sessionFor(emu);
    const { dir, cleanup } = await tempDir();
    try {
      await expect(downloadOutput(session, "http://example.com/out-0.webp", { dir, name: "x" })).rejects.toMatchObject({ code: "E_REPLICATE_UNSAFE_URL" });
      const { outputs } = await new Predictions(session).run({ target: MODEL, input: { prompt: "tar?" } }, FAST_POLL);
      await expect(downloadOutput(session, outputs[0] as string, { dir, name: "x", expect: "tar" })).rejects.toMatchObject({ code: "E_REPLICATE_DOWNLOAD" });
      await expect(downloadOutput(session, outputs[0] as string, { dir, name: "../evil", expect: "image" })).rejects.toMatchObject({ code: "E_OUTPUT_NAME" });
    } finally {
      await cleanup();
    }
  });
});
