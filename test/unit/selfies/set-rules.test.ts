import { describe, expect, it } from "vitest";
import { selfSimilarity, setReasons, setVerdict, type SetEntry } from "../../../src/selfies/set-rules.js";

/** A unit vector near `base` (a different person = a different base axis). */
function face(base: number, wobble: number, dims = 8): number[] {
  const v = Array.from({ length: dims }, (_, i) => (i === base ? 1 : 0) + (i === (base + 1) % dims ? wobble : 0));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function entry(file: string, patch: Partial<SetEntry> = {}): SetEntry {
  return { file, sha256: file, rejected: false, sharpness: 50, embedding: face(0, 0.3), dhash: "ffffffffffffffff", ...patch };
}

const codesOf = (m: Map<number, Array<{ code: string }>>, i: number): string[] => (m.get(i) ?? []).map((r) => r.code);

describe("setReasons", () => {
  it("rejects exact copies after the first", () => {
    const r = setReasons([entry("a.jpg", { sha256: "x", dhash: "0000000000000000" }), entry("b.jpg", { sha256: "x", dhash: "0000000000000000" })]);
    expect(codesOf(r, 0)).toEqual([]);
    expect(codesOf(r, 1)).toEqual(["duplicate"]);
    expect(r.get(1)![0]!.message).toContain("a.jpg");
  });

  it("keeps the sharper of two near duplicates", () => {
    const r = setReasons([
      entry("a.jpg", { dhash: "00000000000000ff", sharpness: 30 }),
      entry("b.jpg", { dhash: "00000000000000f0", sharpness: 90 }), // 4 bits apart, same face
      entry("c.jpg", { dhash: "ffff0000ffff0000", embedding: face(0, 0.5) }),
    ]);
    expect(codesOf(r, 0)).toEqual(["near_duplicate"]);
    expect(r.get(0)![0]!.message).toContain("b.jpg");
    expect(codesOf(r, 1)).toEqual([]);
    expect(codesOf(r, 2)).toEqual([]);
  });

  it("does not call two framings of one face duplicates", () => {
    const r = setReasons([entry("a.jpg", { dhash: "00000000000000ff" }), entry("b.jpg", { dhash: "ff00ff00ff00ff00" })]);
    expect(r.size).toBe(0);
  });

  it("flags the face that does not match the rest, and only with 3+ faces to compare", () => {
    const set = [0.1, 0.2, 0.3, 0.25].map((w, i) => entry(`a${i}.jpg`, { embedding: face(0, w), dhash: `${i}`.repeat(16) }));
    const other = entry("other.jpg", { embedding: face(4, 0.2), dhash: "abcdabcdabcdabcd" });
    const r = setReasons([...set, other]);
    expect(codesOf(r, 4)).toEqual(["identity_outlier"]);
    for (let i = 0; i < 4; i++) expect(codesOf(r, i)).toEqual([]);
    expect(setReasons([set[0]!, other]).size).toBe(0);
  });

  // Three set faces at angles -t, 0, t in one plane (their median pairwise cosine is cos t) and a
  // probe tilted out of that plane so its median cosine to them is exactly m: the warn and reject
  // bands of issue 18.
  it.each([
    // probe's median cosine to the set, the rest's own median, expected severity
    [0.95, 0.99, undefined],
    [0.89, 0.93, "warn"], // one person's odd photo: the rest are not much closer to each other
    [0.89, 0.99, "reject"], // a look-alike among near-identical photos: 0.10 below the rest
    [0.85, 0.9, "reject"], // below any genuine pair measured on real photos
  ] as const)("median %d with the rest at %d -> %s", (m, restMedian, severity) => {
    const t = Math.acos(restMedian);
    const c = m / restMedian;
    const rest = [-t, 0, t].map((a) => [Math.cos(a), 0, Math.sin(a), 0, 0, 0, 0, 0]);
    const probe = [c, Math.sqrt(1 - c * c), 0, 0, 0, 0, 0, 0];
    const entries = [...rest.map((e, i) => entry(`a${i}.jpg`, { embedding: e, dhash: `${i}`.repeat(16) })), entry("probe.jpg", { embedding: probe, dhash: "abcdabcdabcdabcd" })];
    const reasons = setReasons(entries).get(3) ?? [];
    expect(reasons.find((r) => r.code === "identity_outlier")?.severity).toBe(severity);
  });

  it("ignores images already rejected on their own", () => {
    const r = setReasons([entry("a.jpg"), entry("b.jpg", { rejected: true })]);
    expect(r.size).toBe(0);
  });
});

describe("setVerdict", () => {
  const usable = (n: number, closeups = n - 2, yawSpread = 20) =>
    Array.from({ length: n }, (_, i) => ({ closeup: i < closeups, yaw: (i % 2) * yawSpread, pitch: 0 }));

  it.each([
    [5, "reject"],
    [8, "warn"],
    [12, "ok"],
    [25, "warn"],
  ] as const)("%i usable photos -> %s", (n, verdict) => {
    expect(setVerdict(n, usable(n), 0).verdict).toBe(verdict);
  });

  it("asks for wider shots when every photo is a close-up, and for pose variety", () => {
    const v = setVerdict(12, usable(12, 12, 2), 0);
    expect(v.verdict).toBe("warn");
    expect(v.advice.join(" ")).toMatch(/chest-up/);
    expect(v.advice.join(" ")).toMatch(/three-quarter/);
    expect(v.closeups).toBe(12);
  });

  it("asks for close-ups when most are wide", () => {
    expect(setVerdict(12, usable(12, 3), 0).advice.join(" ")).toMatch(/Add close-ups/);
  });

  it("says how many were left out", () => {
    const v = setVerdict(15, usable(12), 3);
    expect(v.total).toBe(15);
    expect(v.advice.join(" ")).toMatch(/3 photos are left out/);
  });
});

describe("selfSimilarity", () => {
  it("summarises pairwise cosine", () => {
    const s = selfSimilarity([face(0, 0), face(0, 0), face(1, 0)])!;
    expect(s.count).toBe(3);
    expect(s.min).toBe(0);
    expect(s.mean).toBeCloseTo(1 / 3, 3);
    expect(selfSimilarity([face(0, 0)])).toBeUndefined();
  });
});
