/** `gen --until K`: the stop rule (pure, table-driven) and the counter on real images. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nextImage, PassCounter, type UntilState } from "../../../src/scoring/until.js";
import { loadReference } from "../../../src/scoring/reference.js";
import { collinsSelfies, generatedLike, noFace, writeAll } from "./build-outputs.js";

const base: UntilState = { passed: 0, target: 4, generated: 0, maxCount: 12, spentUsd: 0, budgetUsd: 1, nextCostUsd: 0.025 };

describe("nextImage", () => {
  it.each([
    [{}, true, undefined],
    [{ passed: 4 }, false, "reached"],
    [{ passed: 3, generated: 12 }, false, "max_count"],
    [{ passed: 3, generated: 11, spentUsd: 0.98 }, false, "budget"],
    [{ passed: 3, generated: 11, spentUsd: 0.975 }, true, undefined], // exactly reaches the cap: allowed
    [{ passed: 3, generated: 11, spentUsd: 5, budgetUsd: undefined }, true, undefined],
  ] as Array<[Partial<UntilState>, boolean, string | undefined]>)("%o -> go %s (%s)", (change, go, reason) => {
    const decision = nextImage({ ...base, ...change });
    expect(decision.go).toBe(go);
    if (!decision.go) expect(decision.reason).toBe(reason);
  });
});

describe("PassCounter", () => {
  let dir: string;
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("counts images that look like the person once each, and keeps every score for curate()", async () => {
    dir = await mkdtemp(join(tmpdir(), "headshot-until-"));
    await writeAll(join(dir, "selfies"), await collinsSelfies());
    await writeAll(join(dir, "out"), { "1.jpg": await generatedLike("collins", "full"), "2.jpg": await generatedLike("hopper", "full"), "3.jpg": await noFace() });
    const reference = await loadReference({ home: join(dir, "home"), selfies: join(dir, "selfies") });
    const counter = new PassCounter(reference, { outDir: join(dir, "out"), home: join(dir, "home") });
    expect((await counter.add("1.jpg")).passed).toBe(true);
    expect((await counter.add("2.jpg")).passed).toBe(false);
    expect((await counter.add("3.jpg")).passed).toBe(false);
    await counter.add("1.jpg"); // a resumed run sees it again
    expect(counter.passed).toBe(1);
    expect([...counter.scores.keys()].sort()).toEqual(["1.jpg", "2.jpg", "3.jpg"]);
  }, 60_000);
});
