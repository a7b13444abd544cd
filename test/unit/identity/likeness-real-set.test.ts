/**
 * The calibrated likeness verdicts and the selfie outlier rule on real photos (issue 18), run on
 * every `npm test` over the committed public-domain set test/fixtures/likeness (85 people, 146
 * photos; sources and licences in its PROVENANCE.md). A second set whose photos cannot be
 * committed (their sources state no licence) is checked too when given: assemble it with
 * `node test/bench/likeness-set.mjs <dir> <mirrors>` and run with HEADSHOT_LIKENESS_SET=<dir>.
 * Targets from the issue: `match` accepts >= 98% of genuine photos and <= 0.1% of strangers; no
 * one-person set has a photo rejected by the outlier rule.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeFaceModel, detectFaces, warmFaceWorkers } from "../../../src/selfies/faces.js";
import { referenceFromEmbeddings } from "../../../src/scoring/reference.js";
import { judge } from "../../../src/scoring/similarity.js";
import { setReasons } from "../../../src/selfies/set-rules.js";

const COMMITTED = fileURLToPath(new URL("../../fixtures/likeness/", import.meta.url));
const SETS: [string, string, { genuine: number; strangers: number }][] = [
  ["the committed public-domain set", COMMITTED, { genuine: 12, strangers: 5000 }],
  ...(process.env.HEADSHOT_LIKENESS_SET ? [["HEADSHOT_LIKENESS_SET", process.env.HEADSHOT_LIKENESS_SET, { genuine: 20, strangers: 1000 }] as [string, string, { genuine: number; strangers: number }]] : []),
];
interface Photo {
  person: string;
  file: string;
  embedding: number[];
}

describe.each(SETS)("likeness on real photos: %s", (_name, root, minimum) => {
  let people: Map<string, Photo[]>;
  let photos: Photo[];
  beforeAll(async () => {
    await warmFaceWorkers(2);
    const found: Photo[] = [];
    const folders = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    for (const person of folders.sort()) {
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
    expect(verdicts.length).toBeGreaterThanOrEqual(minimum.genuine);
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
    expect(total).toBeGreaterThanOrEqual(minimum.strangers);
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
