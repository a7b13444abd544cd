/** mapLimited: order kept, concurrency capped, and no step still running when it rejects. */
import { describe, expect, it } from "vitest";
import { mapLimited } from "../../../src/util/map-limited.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("mapLimited", () => {
  it("keeps the input order and never runs more than the limit at once", async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimited([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      for (let i = 0; i < n; i++) await tick();
      running--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it("rejects with the first failure only after the step in flight has finished, and starts no new one", async () => {
    const finished: number[] = [];
    const started: number[] = [];
    const error = await mapLimited([0, 1, 2, 3], 2, async (n) => {
      started.push(n);
      if (n === 0) throw new Error("disk full");
      for (let i = 0; i < 5; i++) await tick();
      finished.push(n);
      return n;
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe("disk full");
    expect(finished).toEqual([1]);
    expect(started).toEqual([0, 1]);
  });

  it("an empty list gives an empty result", async () => {
    expect(await mapLimited([], 3, async () => 1)).toEqual([]);
  });
});
