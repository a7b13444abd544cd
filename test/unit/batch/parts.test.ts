import { describe, expect, it } from "vitest";
import { Budget, estimateTrainingUsd } from "../../../src/batch/budget.js";
import { batchExitCode } from "../../../src/batch/outcome.js";
import { looksLikeFile, resolveBatch } from "../../../src/batch/resolve.js";
import { Lane, WeightedSlots } from "../../../src/batch/slots.js";
import { PRICE_TABLE } from "../../../src/pricing/prices.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("budget", () => {
  it("reserves what fits, refuses what does not, and counts what was really spent", () => {
    const budget = new Budget(1);
    budget.addSpent(0.5);
    const a = budget.reserve(0.3);
    expect(a).toBeDefined();
    expect(budget.reserve(0.3)).toBeUndefined(); // 0.5 + 0.3 + 0.3 > 1
    a?.settle(0.1);
    expect(budget.spent).toBe(0.6);
    expect(budget.left).toBe(0.4);
    expect(budget.reserve(0.4)).toBeDefined();
    expect(budget.reserve(0)).toBeDefined(); // free steps always run
  });

  it("has no cap without a budget", () => {
    expect(new Budget(undefined).reserve(1e6)).toBeDefined();
  });

  it("estimates a training from the price table's H100 rate", () => {
    const usd = estimateTrainingUsd(1000);
    expect(usd).toBeCloseTo((120 + 1000 * 1.1) * PRICE_TABLE.h100PerSecondUsd, 3);
    expect(estimateTrainingUsd(2000)).toBeGreaterThan(usd);
  });
});

describe("exit codes", () => {
  it("orders failures: interrupted > remote API > usage > dependency > rejected selfies > bug > failed", () => {
    expect(batchExitCode([{ status: "done", exitCode: 0 }])).toBe(0);
    expect(batchExitCode([{ status: "failed", exitCode: 5 }, { status: "rejected", exitCode: 6 }])).toBe(6);
    expect(batchExitCode([{ status: "rejected", exitCode: 6 }, { status: "failed", exitCode: 4 }])).toBe(4);
    expect(batchExitCode([{ status: "failed", exitCode: 4 }, { status: "interrupted", exitCode: 130 }])).toBe(130);
    expect(batchExitCode([{ status: "stopped", exitCode: 5 }])).toBe(5);
  });
});

describe("resolving a batch file", () => {
  const loaded = {
    path: "/team/team.yaml",
    dir: "/team",
    batch: {
      out: "./out",
      budget: 10,
      defaults: { presets: ["./presets/brand.yaml", { preset: "linkedin", count: 2, set: { "lighting.setup": "rembrandt", a: 1 } }], count: 5, crops: true, backend: "replicate" as const },
      people: [
        { name: "jane", selfies: "./selfies/jane", class: "woman" as const },
        { name: "sam", identity: "sam-id", backend: "local" as const, presets: ["executive"], count: 3 },
      ],
    },
  };

  it("merges defaults under each person and makes paths absolute next to the file", () => {
    const r = resolveBatch(loaded, { cwd: "/elsewhere" });
    expect(r.out).toBe("/team/out");
    expect(r.concurrency).toBe(6);
    const [jane, sam] = r.people;
    expect(jane).toMatchObject({ selfies: "/team/selfies/jane", identity: "jane", trains: true, backend: "replicate", classWord: "woman", crops: true });
    expect(jane?.presets).toEqual([
      { ref: "/team/presets/brand.yaml", written: "./presets/brand.yaml", count: 5, countLevel: 0, set: [] },
      { ref: "linkedin", written: "linkedin", count: 2, countLevel: 2, set: ["a=1", "lighting.setup=rembrandt"] },
    ]);
    expect(sam).toMatchObject({ selfies: undefined, identity: "sam-id", trains: false, backend: "local", presets: [{ ref: "executive", count: 3, set: [] }] });
  });

  it("--backend overrides every person's backend and says so", () => {
    const r = resolveBatch(loaded, { cwd: "/", backend: "test" });
    expect(r.people.map((p) => [p.backend, p.backendOverridden])).toEqual([
      ["test", true],
      ["test", true],
    ]);
  });

  it("tells preset files from names", () => {
    expect(looksLikeFile("corporate")).toBe(false);
    expect(looksLikeFile("brand.yaml")).toBe(true);
    expect(looksLikeFile("./x")).toBe(true);
  });
});

describe("prediction slots", () => {
  it("never grants more than the total, first come first served", async () => {
    const slots = new WeightedSlots(4);
    let inUse = 0;
    let peak = 0;
    const order: string[] = [];
    const job = (name: string, wanted: number, ms: number) =>
      slots.withSlots(wanted, async (granted) => {
        order.push(`${name}:${granted}`);
        inUse += granted;
        peak = Math.max(peak, inUse);
        await sleep(ms);
        inUse -= granted;
      });
    await Promise.all([job("a", 3, 30), job("b", 2, 10), job("c", 1, 10), job("d", 9, 10)]);
    expect(peak).toBeLessThanOrEqual(4);
    expect(order).toEqual(["a:3", "b:2", "c:1", "d:4"]);
  });

  it("a lane runs one at a time; acquire/release holds it across events", async () => {
    const lane = new Lane();
    const log: string[] = [];
    const release = await lane.acquire();
    const waiting = lane.run(async () => log.push("second"));
    await sleep(10);
    log.push("first");
    release();
    await waiting;
    expect(log).toEqual(["first", "second"]);
  });
});
