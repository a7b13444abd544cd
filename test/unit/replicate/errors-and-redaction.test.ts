import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedactor, createReplicateSession, downloadOutput, getAccount, getModel, Predictions, RateLimiter, type RetryEvent } from "../../../src/replicate/index.js";
import { errorFromResponse } from "../../../src/replicate/errors.js";
import { defaultFaults } from "../../support/replicate-emulator/faults.js";
import type { ReplicateEmulator } from "../../support/replicate-emulator/index.js";
import { FAST_POLL, FAST_RETRY, sessionFor, tempDir, withEmulator } from "./helpers.js";

let emu: ReplicateEmulator;
beforeAll(async () => {
  emu = await withEmulator();
});
afterAll(async () => emu.close());
afterEach(() => {
  Object.assign(emu.faults, defaultFaults());
  emu.setRetention(3_600_000);
});

const MODEL = { model: "black-forest-labs/flux-dev-lora" } as const;

/** Everything an error could leak through: message, hint, details, JSON, stack, inspect. */
function everything(error: unknown): string {
  const e = error as Error & { toJSON?: () => unknown; hint?: string; details?: string[] };
  return [e.message, e.hint, ...(e.details ?? []), JSON.stringify(e.toJSON?.() ?? {}), e.stack, inspect(e, { depth: 6 })].join("\n");
}

describe("HTTP errors become typed RemoteApiErrors with hints", () => {
  it("no token: fails before any request, with how to set it", () => {
    expect(() => createReplicateSession({ env: { REPLICATE_BASE_URL: emu.baseUrl } })).toThrow(
      expect.objectContaining({ code: "E_REPLICATE_TOKEN_MISSING", hint: expect.stringContaining("export REPLICATE_API_TOKEN=") }),
    );
  });

  it("401 for a wrong token", async () => {
    const session = createReplicateSession({ env: { REPLICATE_API_TOKEN: "r8_wrongwrongwrongwrong", REPLICATE_BASE_URL: emu.baseUrl }, retry: FAST_RETRY, limiter: new RateLimiter() });
    const error = await getAccount(session).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_401", exitCode: 4, status: 401 });
    expect((error as Error).message).toContain("You did not pass a valid authentication token");
    expect(everything(error)).not.toContain("r8_wrongwrongwrongwrong");
  });

  it("402 insufficient credit", async () => {
    emu.faults.insufficientCredit = true;
    const error = await new Predictions(sessionFor(emu)).create({ target: MODEL, input: { prompt: "x" } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_402", hint: expect.stringContaining("replicate.com/account/billing") });
  });

  it("404 names the model", async () => {
    const error = await getModel(sessionFor(emu), "nobody", "nothing").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_404" });
    expect((error as Error).message).toContain("model nobody/nothing");
  });

  it("422 from the server lists invalid_fields per field (when local validation is skipped)", async () => {
    const error = await new Predictions(sessionFor(emu)).create({ target: MODEL, input: { prompt: "x", num_outputs: 9, seed: "one" } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_422", status: 422 });
    expect((error as { details: string[] }).details).toEqual([
      "input.num_outputs: Must be less than or equal to 4 [number_lte]",
      "input.seed: Invalid type. Expected: integer, given: string [invalid_type]",
    ]);
  });

  it("422 for an unknown version", async () => {
    const error = await new Predictions(sessionFor(emu)).create({ target: { version: "f".repeat(64) }, input: { prompt: "x" } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_422", message: expect.stringContaining("does not know that model version") });
  });

  it("5xx on reads after retries, with the attempt count", async () => {
    emu.clearLog();
    emu.faults.failGets = 1;
    const error = await getAccount(sessionFor(emu, { retry: { ...FAST_RETRY, maxAttempts: 3 } })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_5XX" });
    expect((error as Error).message).toContain("after 3 attempts");
    expect(emu.count("GET", /^\/account$/)).toBe(3);
  });

  it("network down: E_REPLICATE_NETWORK after retries", async () => {
    const dead = await withEmulator();
    const base = dead.baseUrl;
    await dead.close();
    const session = createReplicateSession({ env: { REPLICATE_API_TOKEN: "r8_sometokenvalue123", REPLICATE_BASE_URL: base }, retry: { ...FAST_RETRY, maxAttempts: 2 }, limiter: new RateLimiter() });
    const error = await getAccount(session).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_NETWORK", message: expect.stringContaining("ECONNREFUSED") });
  });

  it("a bad REPLICATE_BASE_URL is a usage error", () => {
    expect(() => createReplicateSession({ env: { REPLICATE_API_TOKEN: "r8_x1234567890", REPLICATE_BASE_URL: "ftp://x" } })).toThrow(expect.objectContaining({ code: "E_REPLICATE_BASE_URL" }));
  });
});

describe("the token never appears in any message, log or file", () => {
  it("redacts the exact token and token-shaped strings from echoed bodies", () => {
    const token = "r8_SuperSecretTokenValue0123456789";
    const redact = createRedactor(token);
    const error = errorFromResponse({
      status: 400,
      bodyText: JSON.stringify({ detail: `Bad header Authorization: Bearer ${token}; also r8_anotherTokenLooking1234 and Token abcdefghijkl` }),
      method: "POST",
      path: "/v1/predictions",
      attempts: 1,
      redact,
    });
    const text = everything(error);
    expect(text).not.toContain(token);
    expect(text).not.toContain("r8_anotherTokenLooking1234");
    expect(text).not.toContain("abcdefghijkl");
    expect(text).toContain("[redacted]");
  });

  it("across a run with every kind of failure: errors, retry events, written files and the client itself", async () => {
    const token = emu.token;
    const events: RetryEvent[] = [];
    const session = sessionFor(emu, { onRetry: (e) => events.push(e), retry: { ...FAST_RETRY, maxAttempts: 2 } });
    const predictions = new Predictions(session);
    const errors: unknown[] = [];
    const collect = (p: Promise<unknown>) => p.catch((e: unknown) => errors.push(e));
    emu.faults.failPrediction = (input) => (input.prompt === "fail" ? `failed with ${"r8_" + "leakyTokenInModelError99"}` : null);
    await collect(predictions.run({ target: MODEL, input: { prompt: "fail" } }, FAST_POLL));
    await collect(predictions.create({ target: MODEL, input: { prompt: 1 } }));
    emu.faults.failGets = 1;
    await collect(getAccount(session));
    emu.faults.failGets = 0;
    emu.faults.throttleCreates = 1;
    emu.faults.retryAfterSeconds = 0;
    await collect(predictions.create({ target: MODEL, input: { prompt: "t" } }));
    emu.faults.throttleCreates = 0;
    const { dir, cleanup } = await tempDir();
    try {
      const { outputs } = await predictions.run({ target: MODEL, input: { prompt: "ok" } }, FAST_POLL);
      await downloadOutput(session, outputs[0] as string, { dir, name: "img", expect: "image" });
      const written = await Promise.all((await readdir(dir)).map((f) => readFile(join(dir, f), "latin1")));
      expect(written.join("")).not.toContain(token);
    } finally {
      await cleanup();
    }
    expect(errors).toHaveLength(4);
    const all = errors.map(everything).join("\n") + JSON.stringify(events);
    expect(all).not.toContain(token);
    expect(all).not.toContain("r8_leakyTokenInModelError99");
    // The emulator's log keeps only whether auth was valid.
    expect(JSON.stringify(emu.requests)).not.toContain(token);
    expect(emu.requests.every((r) => r.auth !== "none" || r.path.startsWith("/delivery/"))).toBe(true);
    expect(JSON.stringify(session)).not.toContain(token.slice(3));
    expect(inspect(session, { depth: 8 })).not.toContain(token.slice(3));
    expect(JSON.stringify(session.replicate)).not.toContain(token.slice(3));
  });
});

describe("data retention: outputs fetched after expiry are reported clearly", () => {
  it("a prediction read after its retention has data_removed and gives E_REPLICATE_OUTPUT_EXPIRED; so does its old URL", async () => {
    emu.setRetention(150);
    const session = sessionFor(emu);
    const predictions = new Predictions(session);
    const { prediction, outputs } = await predictions.run({ target: MODEL, input: { prompt: "expire" } }, FAST_POLL);
    await new Promise((r) => setTimeout(r, 250));
    const later = await predictions.get(prediction.id);
    expect(later).toMatchObject({ status: "succeeded", data_removed: true, output: null });
    expect(() => predictions.assertSucceeded(later)).toThrow(expect.objectContaining({ code: "E_REPLICATE_OUTPUT_EXPIRED", hint: expect.stringContaining("one hour") }));
    const { dir, cleanup } = await tempDir();
    try {
      const error = await downloadOutput(session, outputs[0] as string, { dir, name: "late", expect: "image", completedAt: prediction.completed_at ?? null }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "E_REPLICATE_OUTPUT_EXPIRED" });
      expect((error as Error).message).toContain("one hour");
    } finally {
      await cleanup();
    }
  });
});
