/**
 * How many face-model workers a process runs (issue 18: peak RSS with the face models): the
 * HEADSHOT_FACE_WORKERS setting first, otherwise one per core (at most 2) when memory allows.
 */
import { describe, expect, it } from "vitest";
import { UsageError } from "../../../src/errors.js";
import { faceWorkerLimit } from "../../../src/selfies/face-worker-limit.js";

const GiB = 2 ** 30;

describe("faceWorkerLimit", () => {
  it.each([
    { env: {}, cores: 2, free: 8 * GiB, want: 2, why: "two cores, plenty of memory" },
    { env: {}, cores: 16, free: 8 * GiB, want: 2, why: "never more than two" },
    { env: {}, cores: 1, free: 8 * GiB, want: 1, why: "one core" },
    { env: {}, cores: 2, free: 1 * GiB, want: 1, why: "short of free memory" },
    { env: { HEADSHOT_FACE_WORKERS: "1" }, cores: 8, free: 8 * GiB, want: 1, why: "the setting wins" },
    { env: { HEADSHOT_FACE_WORKERS: " 2 " }, cores: 1, free: 0.5 * GiB, want: 2, why: "the setting wins, both ways" },
    { env: { HEADSHOT_FACE_WORKERS: "" }, cores: 2, free: 8 * GiB, want: 2, why: "empty is unset" },
  ])("$why: $want", ({ env, cores, free, want }) => {
    expect(faceWorkerLimit(env, { cores, freeBytes: free })).toBe(want);
  });

  it.each(["0", "3", "two", "1.5"])("refuses HEADSHOT_FACE_WORKERS=%s as a usage error naming the variable", (value) => {
    const call = () => faceWorkerLimit({ HEADSHOT_FACE_WORKERS: value }, { cores: 2, freeBytes: 8 * GiB });
    expect(call).toThrow(UsageError);
    expect(call).toThrow(/HEADSHOT_FACE_WORKERS must be 1 or 2/);
  });
});
