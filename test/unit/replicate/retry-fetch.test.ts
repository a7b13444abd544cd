import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Clock } from "../../../src/replicate/clock.js";
import { RateLimiter } from "../../../src/replicate/rate-limiter.js";
import { createRetryFetch } from "../../../src/replicate/retry-fetch.js";
import { backoffDelay, networkErrorCode } from "../../../src/replicate/retry-rules.js";
import { parseResetsIn, parseRetryAfter } from "../../../src/replicate/errors.js";
import { createRedactor, getAccount, Predictions } from "../../../src/replicate/index.js";
import type { ReplicateEmulator } from "../../support/replicate-emulator/index.js";
import { sessionFor, withEmulator } from "./helpers.js";

/** A clock whose sleeps return at once but advance time, recording each wait. */
function fakeClock(start = 1_000_000): Clock & { sleeps: number[]; time: number } {
  const clock = {
    time: start,
    sleeps: [] as number[],
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      clock.time += ms;
    },
  };
  return clock;
}

describe("parsing the server's wait hints", () => {
  it.each([
    ["3", 3000],
    ["0", 0],
    ["1.5", 1500],
    ["", undefined],
    ["soon", undefined],
  ])("Retry-After %j → %j ms", (value, expected) => {
    expect(parseRetryAfter(value, 0)).toBe(expected);
  });

  it("Retry-After as an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it.each([
    ["Request was throttled. Your rate limit resets in ~30s.", 30_000],
    ["Request was throttled. Your rate limit resets in ~1s.", 1000],
    ["resets in 2.5s", 2500],
    ["Request was throttled.", undefined],
  ])("%j → %j ms", (detail, expected) => {
    expect(parseResetsIn(detail)).toBe(expected);
  });
});

describe("backoff and rate limiting", () => {
  it("grows exponentially, capped, with jitter between half and all of the step", () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 500, 20_000, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 500, 20_000, () => 0.999))).toEqual([500, 1000, 1999, 3998]);
    expect(backoffDelay(20, 500, 20_000, () => 1)).toBe(20_000);
  });

  it("keeps creates at or under the limit per window", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(600, 60_000, clock);
    for (let i = 0; i < 600; i++) await limiter.acquire();
    expect(clock.sleeps).toEqual([]);
    await limiter.acquire();
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(60_000);
  });

  it("pauses all creates after a 429 with Retry-After", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(600, 60_000, clock);
    limiter.pause(5000);
    await limiter.acquire();
    expect(clock.sleeps).toEqual([5000]);
  });

  it("finds the system error code under undici's TypeError", () => {
    expect(networkErrorCode(new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } }))).toBe("ECONNREFUSED");
    expect(networkErrorCode(new TypeError("fetch failed", { cause: { errors: [{ code: "ENOTFOUND" }] } }))).toBe("ENOTFOUND");
    expect(networkErrorCode(new Error("x"))).toBeUndefined();
  });
});

describe("retry-fetch against the emulator, with an injected clock (no real waiting)", () => {
  let emu: ReplicateEmulator;
  beforeAll(async () => {
    emu = await withEmulator();
  });
  afterAll(async () => emu.close());

  it("honours a 30 s Retry-After (recorded, not slept) and creates once", async () => {
    emu.clearLog();
    emu.faults.throttleNextCreates = 2;
    emu.faults.retryAfterSeconds = 30;
    const clock = fakeClock(Date.now());
    const session = sessionFor(emu, { clock, limiter: new RateLimiter(600, 60_000, clock) });
    await new Predictions(session).create({ target: { model: "black-forest-labs/flux-dev-lora" }, input: { prompt: "p" } });
    expect(clock.sleeps.filter((s) => s >= 30_000).length).toBeGreaterThanOrEqual(2);
    expect(emu.count("POST", /predictions$/)).toBe(3);
    emu.faults.retryAfterSeconds = 1;
  });

  it("fails at once when Retry-After exceeds maxRetryAfterMs, keeping the wait in the error", async () => {
    emu.faults.throttleNextCreates = 1;
    emu.faults.retryAfterSeconds = 600;
    const clock = fakeClock(Date.now());
    const session = sessionFor(emu, { clock, retry: { maxRetryAfterMs: 60_000 } });
    const error = await new Predictions(session).create({ target: { model: "black-forest-labs/flux-dev-lora" }, input: { prompt: "q" } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "E_REPLICATE_429", retryAfterMs: 600_000 });
    expect(clock.sleeps.filter((s) => s >= 60_000)).toEqual([]);
    emu.faults.retryAfterSeconds = 1;
  });

  it("5xx on GETs: exponential backoff steps between attempts", async () => {
    emu.faults.failNextGets = 3;
    const clock = fakeClock(Date.now());
    const session = sessionFor(emu, { clock, retry: { baseDelayMs: 1000, maxDelayMs: 30_000, random: () => 0 } });
    await getAccount(session);
    expect(clock.sleeps).toEqual([500, 1000, 2000]);
  });

  it("is a plain fetch for the client: the same init after our final error costs no new request", async () => {
    emu.clearLog();
    emu.faults.failGets = 1;
    const retryFetch = createRetryFetch({ retry: { maxAttempts: 2, baseDelayMs: 1 }, redact: createRedactor(emu.token) });
    const init = { method: "GET", headers: { Authorization: `Bearer ${emu.token}` } };
    const first = await retryFetch(`${emu.baseUrl}/account`, init).catch((e: unknown) => e);
    const again = await retryFetch(`${emu.baseUrl}/account`, init).catch((e: unknown) => e);
    expect(again).toBe(first);
    expect(emu.count("GET", /^\/account$/)).toBe(2);
    emu.faults.failGets = 0;
  });
});
