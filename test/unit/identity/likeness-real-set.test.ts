/**
 * The calibrated likeness verdicts and the selfie outlier rule on a real-photo verification set
 * (issue 18). The photos are not in the repository (their licences are not stated by the public
 * repositories they come from): assemble them with `node test/bench/likeness-set.mjs <dir> <mirrors>`
 * and run with HEADSHOT_LIKENESS_SET=<dir>. Without it this file is skipped.
 * Targets from the issue: `match` accepts >= 98% of genuine photos and <= 0.1% of strangers; no
 * one-person set has a photo rejected by the outlier rule.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeFaceModel, detectFaces, warmFaceWorkers } from "../../../src/selfies/faces.js";
import { referenceFromEmbeddings } from "../../../src/scoring/reference.js";
import { judge } from "../../../src/scoring/similarity.js";
import { setReasons } from "../../../src/selfies/set-rules.js";

const SET = process.env.HEADSHOT_LIKENESS_SET;
interface Photo {
  person: string;
  file: string;
  embedding: number[];
}
let people: Map<string, Photo[]>;
let photos: Photo[];

describe.skipIf(!SET)("likeness on the real-photo set (HEADSHOT_LIKENESS_SET)", () => {
  beforeAll(async () => {
    await warmFaceWorkers(2);
    const root = SET!;
    const found: Photo[] = [];
    for (const person of (await readdir(root)).sort()) {
      for (const file of (await readdir(join(root, person))).sort()) {
        const faces = await detectFaces(join(root, person, file));
        const face = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
        if (face?.embedding.length) found.push({ person, file, embedding: face.embedding });
      }
    }
    photos = found;
    people = new Map();
    for (const p of photos) people.set(p.person, [...(people.get(p.person) ?? []), p]);
  }, 600_000);
  afterAll(() => closeFaceModel());

  it("matches >= 98% of genuine photos against the person's other photos", () => {
    const verdicts: string[] = [];
    for (const [person, list] of people) {
      if (list.length < 3) continue;
      list.forEach((probe, i) => {
        const ref = referenceFromEmbeddings(person, list.filter((_, j) => j !== i).map((p) => p.embedding))!;
        verdicts.push(judge({ faces: 1, embedding: probe.embedding }, ref).verdict);
      });
    }
    expect(verdicts.length).toBeGreaterThanOrEqual(20);
    expect(verdicts.filter((v) => v === "match").length / verdicts.length).toBeGreaterThanOrEqual(0.98);
    expect(verdicts).not.toContain("not_you");
  });

  it("matches <= 0.1% of strangers", () => {
    const matched: string[] = [];
    let total = 0;
    for (const [person, list] of people) {
      if (list.length < 2) continue;
      const ref = referenceFromEmbeddings(person, list.map((p) => p.embedding))!;
      for (const other of photos) {
        if (other.person === person) continue;
        total++;
        if (judge({ faces: 1, embedding: other.embedding }, ref).verdict === "match") matched.push(`${other.person}/${other.file} as ${person}`);
      }
    }
    expect(total).toBeGreaterThanOrEqual(1000);
    expect(matched.length / total, matched.join(", ")).toBeLessThanOrEqual(0.001);
  });

  it("rejects no genuine photo as an identity outlier, and flags a stranger added to a set", () => {
    let flagged = 0;
    let intruders = 0;
    for (const [, list] of people) {
      if (list.length < 3) continue;
      const entries = (ps: Photo[]) => ps.map((p) => ({ file: `${p.person}/${p.file}`, sha256: `${p.person}/${p.file}`, rejected: false, embedding: p.embedding }));
      const own = [...setReasons(entries(list)).values()].flat().filter((r) => r.code === "identity_outlier" && r.severity === "reject");
      expect(own).toEqual([]);
      for (const other of photos.filter((p) => p.person !== list[0]!.person)) {
        intruders++;
        if ((setReasons(entries([...list, other])).get(list.length) ?? []).some((r) => r.code === "identity_outlier")) flagged++;
      }
    }
    // Measured 98.9% flagged (warn or reject) on the set in LIKENESS.md.
    expect(flagged / intruders).toBeGreaterThan(0.95);
  });
});
