// Likeness on a real-photo verification set (issue 18): node test/bench/likeness.mjs <set-dir>
// <set-dir>/<person>/<photo>: one folder per person; a person with one photo is a stranger only.
// Runs the production path from dist/ (npm run build first): detectFaces -> descriptor, the
// reference built as `score --selfies` builds it, judge() with the calibrated thresholds, and the
// selfie set rules. Prints a Markdown report (the numbers behind src/scoring/calibration.ts).
import { readdir } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const root = process.argv[2];
if (!root) {
  process.stderr.write("usage: node test/bench/likeness.mjs <set-dir>\n");
  process.exit(2);
}
const dist = new URL("../../dist/", import.meta.url);
const { detectFaces, closeFaceModel, cosine, loadFaceModel, warmFaceWorkers } = await import(new URL("selfies/faces.js", dist).href);
const { referenceFromEmbeddings } = await import(new URL("scoring/reference.js", dist).href);
const { judge } = await import(new URL("scoring/similarity.js", dist).href);
const { setReasons } = await import(new URL("selfies/set-rules.js", dist).href);
const { IDENTITY_THRESHOLDS, DESCRIPTOR_MODEL } = await import(new URL("scoring/calibration.js", dist).href);

await loadFaceModel();
const workers = await warmFaceWorkers(2);
const photos = [];
for (const person of (await readdir(root)).sort()) for (const file of (await readdir(join(root, person))).sort()) photos.push({ person, file, path: join(root, person, file) });
const t0 = performance.now();
await Promise.all(
  photos.map(async (p) => {
    const faces = await detectFaces(p.path);
    // The largest face: group photos and TV stills may hold someone else in the background.
    const face = faces.sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3])[0];
    if (face?.embedding.length) p.e = face.embedding;
    p.faces = faces.length;
  }),
);
const msPerPhoto = (performance.now() - t0) / photos.length;
await closeFaceModel();
const usable = photos.filter((p) => p.e);
const people = Map.groupBy ? Map.groupBy(usable, (p) => p.person) : usable.reduce((m, p) => m.set(p.person, [...(m.get(p.person) ?? []), p]), new Map());

// Photo against photo.
const genuine = [];
const strangers = [];
for (let i = 0; i < usable.length; i++) for (let j = i + 1; j < usable.length; j++) (usable[i].person === usable[j].person ? genuine : strangers).push(cosine(usable[i].e, usable[j].e));
const sortNum = (a) => a.sort((x, y) => x - y);
sortNum(genuine);
sortNum(strangers);
const q = (a, p) => a[Math.min(a.length - 1, Math.floor(p * a.length))];
let eer = { gap: 2 };
for (const t of [...genuine, ...strangers]) {
  const frr = genuine.filter((g) => g < t).length / genuine.length;
  const far = strangers.filter((s) => s >= t).length / strangers.length;
  if (Math.abs(frr - far) < eer.gap) eer = { gap: Math.abs(frr - far), rate: (frr + far) / 2, at: t };
}

// Verdicts: each photo of a person with 3+ photos against the others (genuine); every photo
// against each person with 2+ photos (strangers).
const verdicts = { genuine: { match: 0, doubtful: 0, not_you: 0 }, strangers: { match: 0, doubtful: 0, not_you: 0 } };
const matchedStrangers = [];
const missedGenuine = [];
const extremes = { genuineSim: 2, genuineRel: 9, strangerSim: -1, strangerRel: -1 };
for (const [person, list] of people) {
  if (list.length >= 3)
    list.forEach((probe, i) => {
      const ref = referenceFromEmbeddings(person, list.filter((_, j) => j !== i).map((p) => p.e));
      const v = judge({ faces: 1, embedding: probe.e }, ref);
      verdicts.genuine[v.verdict]++;
      extremes.genuineSim = Math.min(extremes.genuineSim, v.similarity);
      extremes.genuineRel = Math.min(extremes.genuineRel, v.relative);
      if (v.verdict !== "match") missedGenuine.push(`${person}/${probe.file} (${v.verdict}, ${v.similarity}, ${v.relative})`);
    });
  if (list.length >= 2) {
    const ref = referenceFromEmbeddings(person, list.map((p) => p.e));
    for (const other of usable)
      if (other.person !== person) {
        const v = judge({ faces: 1, embedding: other.e }, ref);
        verdicts.strangers[v.verdict]++;
        extremes.strangerSim = Math.max(extremes.strangerSim, v.similarity);
        extremes.strangerRel = Math.max(extremes.strangerRel, v.relative);
        if (v.verdict === "match") matchedStrangers.push(`${other.person}/${other.file} as ${person}`);
      }
  }
}

// Selfie outlier rule: each person's own photos (3+) must not be rejected; the same set plus one
// stranger: how often is the stranger flagged?
const rule = { sets: 0, genuineRejected: 0, genuineWarned: 0, intruders: 0, intruderRejected: 0, intruderWarned: 0 };
for (const [person, list] of people) {
  if (list.length < 3) continue;
  const entries = (ps) => ps.map((p) => ({ file: `${p.person}/${p.file}`, sha256: `${p.person}/${p.file}`, rejected: false, embedding: p.e }));
  rule.sets++;
  const own = setReasons(entries(list));
  for (const reasons of own.values())
    for (const r of reasons) {
      if (r.code !== "identity_outlier") continue;
      if (r.severity === "reject") rule.genuineRejected++;
      else rule.genuineWarned++;
    }
  for (const other of usable) {
    if (other.person === person) continue;
    rule.intruders++;
    const got = (setReasons(entries([...list, other])).get(list.length) ?? []).find((r) => r.code === "identity_outlier");
    if (got?.severity === "reject") rule.intruderRejected++;
    else if (got) rule.intruderWarned++;
  }
}

const pct = (n, d) => (d ? `${((100 * n) / d).toFixed(2)}%` : "n/a");
const g = verdicts.genuine;
const s = verdicts.strangers;
const gn = g.match + g.doubtful + g.not_you;
const sn = s.match + s.doubtful + s.not_you;
const lines = [
  `## ${new Date().toISOString().slice(0, 10)}: ${DESCRIPTOR_MODEL}, ${cpus().length} x ${cpus()[0]?.model ?? "CPU"}, Node ${process.version}`,
  "",
  `Set: ${photos.length} photos of ${new Set(photos.map((p) => p.person)).size} people; a usable face in ${usable.length}. ${(msPerPhoto / 1000).toFixed(2)} s per photo wall time (${workers} model workers, decode included).`,
  "",
  `Photo against photo: ${genuine.length} genuine pairs, ${strangers.length} stranger pairs. Equal error rate ${pct(eer.rate, 1)} at cosine ${eer.at.toFixed(3)}. Genuine cosine min ${genuine[0].toFixed(3)}, p2 ${q(genuine, 0.02).toFixed(3)}, median ${q(genuine, 0.5).toFixed(3)}; strangers median ${q(strangers, 0.5).toFixed(3)}, p99 ${q(strangers, 0.99).toFixed(3)}, max ${strangers.at(-1).toFixed(3)}.`,
  "",
  `Verdicts (match: similarity >= ${IDENTITY_THRESHOLDS.matchFloor} and relative >= ${IDENTITY_THRESHOLDS.match}; doubtful: >= ${IDENTITY_THRESHOLDS.doubtfulFloor} and >= ${IDENTITY_THRESHOLDS.doubtful}):`,
  "",
  "| probes | n | match | doubtful | not_you |",
  "| --- | --- | --- | --- | --- |",
  `| genuine (one photo vs the person's others) | ${gn} | ${pct(g.match, gn)} | ${pct(g.doubtful, gn)} | ${pct(g.not_you, gn)} |`,
  `| strangers (a photo vs another person's photos) | ${sn} | ${pct(s.match, sn)} | ${pct(s.doubtful, sn)} | ${pct(s.not_you, sn)} |`,
  "",
  `Lowest genuine probe: similarity ${extremes.genuineSim}, relative ${extremes.genuineRel}. Highest stranger probe: similarity ${extremes.strangerSim}, relative ${extremes.strangerRel}.`,
  "",
  `Genuine not matched: ${missedGenuine.join("; ") || "none"}. Strangers matched: ${matchedStrangers.join("; ") || "none"}.`,
  "",
  `Selfie outlier rule: ${rule.sets} one-person sets, ${rule.genuineRejected} genuine photos rejected, ${rule.genuineWarned} warned. The same sets with one stranger added (${rule.intruders} cases): stranger rejected ${pct(rule.intruderRejected, rule.intruders)}, warned ${pct(rule.intruderWarned, rule.intruders)}.`,
  "",
];
process.stdout.write(lines.join("\n"));
