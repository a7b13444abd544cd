/**
 * `headshot score` in-process with the real face models, real sharp and real files: a table of
 * likeness per image against a selfie folder or a registered identity, flags for faceless and
 * two-face images, the best checkpoint of an ai-toolkit training folder, and typed usage errors.
 */
import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";
import { registerCheckedIdentity } from "../support/identity/checked-identity.js";
import { collinsSelfies, generatedLike, noFace, twoPeople, writeAll } from "../unit/scoring/build-outputs.js";

let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-score-cli-"));
  env = { HEADSHOT_HOME: join(dir, "home") };
  await writeAll(join(dir, "selfies"), await collinsSelfies());
  await writeAll(join(dir, "out"), {
    "collins-full.jpg": await generatedLike("collins", "full"),
    "collins-teal.jpg": await generatedLike("collins", "teal-background"),
    "hopper-full.jpg": await generatedLike("hopper", "full"),
    "no-face.jpg": await noFace(),
    "two-people.jpg": await twoPeople(),
    "notes.txt": "not an image\n",
  });
  // An ai-toolkit output folder: samples by step, checkpoints (contents do not matter here).
  const training = join(dir, "training", "jane");
  await writeAll(join(training, "samples"), {
    "1764220000001__000000250_0.jpg": await generatedLike("hopper", "relit-up"),
    "1764220000002__000000250_1.jpg": await generatedLike("collins", "small-on-canvas"),
    "1764220000003__000000500_0.jpg": await generatedLike("collins", "warm"),
    "1764220000004__000000500_1.jpg": await generatedLike("collins", "rotated"),
    "1764220000005__000000750_0.jpg": await generatedLike("collins", "relit-down"),
    "1764220000006__000000750_1.jpg": await noFace(),
  });
  for (const f of ["jane_000000250.safetensors", "jane_000000500.safetensors", "jane.safetensors"]) await writeFile(join(training, f), "stub");
  // A registered identity whose selfie summary is what `train` stores (centroid + spread).
  await registerCheckedIdentity({ home: env.HEADSHOT_HOME!, selfies: join(dir, "selfies"), lora: join(training, "jane.safetensors"), dataset: join(dir, "dataset") });
}, 180_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("headshot score", () => {
  it("prints a table of faces, likeness and verdict per image and flags faceless and two-face images", async () => {
    const r = await runCli(["score", "out", "--selfies", "selfies"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const row = (file: string): string => r.stdout.split("\n").find((l) => l.startsWith(file)) ?? "";
    expect(row("collins-full.jpg")).toMatch(/collins-full\.jpg\s+1\s+\d+%\s+match/);
    expect(row("collins-teal.jpg")).toMatch(/\s1\s+\d+%\s+match/);
    // Hopper reads ~90% relative to 6 near-identical Collins "selfies" but stays under the raw
    // similarity floor (src/scoring/calibration.ts): not a match whatever the relative number.
    expect(row("hopper-full.jpg")).toMatch(/\s1\s+\d+%\s+not_you/);
    expect(row("no-face.jpg")).toMatch(/\s0\s+-\s+no_face/);
    expect(row("two-people.jpg")).toMatch(/\s2\s+\d+%\s+multiple_faces/);
    expect(r.stdout).not.toContain("notes.txt");
    expect(r.stdout).toContain("Compared with selfies");
    expect(r.stderr).toContain("no-face.jpg: No face found.");
    expect(r.stderr).toContain("two-people.jpg: 2 faces found");
  });

  it("--json: one line per image, then a summary with the verdict counts and the flagged files", async () => {
    const r = await runCli(["score", "out", "--identity", "jane", "--json"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.json();
    const images = lines.filter((l) => l.type === "image");
    expect(images.map((l) => l.file)).toEqual(["collins-full.jpg", "collins-teal.jpg", "hopper-full.jpg", "no-face.jpg", "two-people.jpg"]);
    const summary = lines.at(-1)!;
    expect(summary.type).toBe("summary");
    expect(summary).toMatchObject({
      images: 5,
      verdicts: { match: 2, not_you: 1, no_face: 1, multiple_faces: 1 },
      reference: { label: "identity jane", count: 6 },
      flagged: [
        { file: "no-face.jpg", verdict: "no_face", faces: 0 },
        { file: "two-people.jpg", verdict: "multiple_faces", faces: 2 },
      ],
    });
    // The registry's centroid gives the same likeness as the selfie folder (the formula is exact).
    const viaSelfies = (await runCli(["score", "out", "--selfies", "selfies", "--json"], { cwd: dir, env })).json().filter((l) => l.type === "image");
    for (const [i, line] of images.entries()) if (line.relative !== undefined) expect(line.relative as number).toBeCloseTo(viaSelfies[i]!.relative as number, 2);
  });

  it("--checkpoints: groups ai-toolkit samples by step and names the checkpoint that looks most like the person", async () => {
    const r = await runCli(["score", "training/jane", "--identity", "jane", "--checkpoints", "--json"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const summary = r.json().at(-1)!;
    expect(summary.checkpoints).toMatchObject({ name: "jane", best: { step: 500, checkpoint: "jane_000000500.safetensors", onDisk: true, matches: 2, samples: 2 } });
    const human = await runCli(["score", "training/jane", "--identity", "jane", "--checkpoints"], { cwd: dir, env });
    expect(human.stdout).toMatch(/Best checkpoint: jane_000000500\.safetensors \(step 500/);
    expect(human.stdout).toMatch(/step 750\s+\d+%\s+mean likeness, 1\/2 samples match/);
  });

  it("--gallery writes index.html and the contact sheet into the folder and moves nothing", async () => {
    const r = await runCli(["score", "out", "--selfies", "selfies", "--gallery"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const html = await readFile(join(dir, "out", "index.html"), "utf8");
    expect(html.indexOf("collins-")).toBeLessThan(html.indexOf("hopper-full"));
    expect(html).toMatch(/class="card rejected"[^>]*>\s*<a class="image" href="no-face\.jpg"/);
    expect(r.stdout).toContain(join(dir, "out", "contact-sheet.png"));
  });

  it("reads only regular files: links to /dev/zero, FIFOs, links to folders and broken links are listed as skipped", { timeout: 120_000 }, async () => {
    const odd = join(dir, "odd");
    await mkdir(join(odd, "subfolder"), { recursive: true });
    await copyFile(join(dir, "out", "collins-full.jpg"), join(odd, "photo.jpg"));
    await symlink("/dev/zero", join(odd, "zero.jpg"));
    execFileSync("mkfifo", [join(dir, "pipe")]);
    await symlink(join(dir, "pipe"), join(odd, "pipe.jpg"));
    execFileSync("mkfifo", [join(odd, "fifo.png")]);
    await symlink(join(dir, "selfies"), join(odd, "more-photos"));
    await symlink(join(dir, "missing.jpg"), join(odd, "broken.jpg"));
    await symlink(join(dir, "out", "notes.txt"), join(odd, "notes-link.txt"));
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 100_000); // a hang fails the test and stops its work
    const run = (argv: string[]) => runCli(["score", "odd", "--selfies", "selfies", ...argv], { cwd: dir, env, signal: abort.signal });
    let r: Awaited<ReturnType<typeof run>>;
    let human: Awaited<ReturnType<typeof run>>;
    try {
      r = await run(["--json"]);
      human = await run([]);
    } finally {
      clearTimeout(timer);
    }
    expect(r.code, r.stderr).toBe(0);
    const lines = r.json();
    const skipped = Object.fromEntries(lines.filter((l) => l.type === "skipped").map((l) => [l.file, l.reason as string]));
    expect(Object.keys(skipped).sort()).toEqual(["broken.jpg", "fifo.png", "more-photos", "pipe.jpg", "zero.jpg"]);
    expect(skipped["zero.jpg"]).toMatch(/link to a device/);
    expect(skipped["pipe.jpg"]).toMatch(/link to a named pipe/);
    expect(skipped["fifo.png"]).toMatch(/named pipe/);
    expect(skipped["more-photos"]).toMatch(/link to a folder/);
    expect(skipped["broken.jpg"]).toMatch(/broken link/);
    expect(lines.filter((l) => l.type === "image").map((l) => [l.file, l.verdict])).toEqual([["photo.jpg", "match"]]);
    expect(lines.at(-1)).toMatchObject({ type: "summary", images: 1, skipped: [{ file: "broken.jpg" }, { file: "fifo.png" }, { file: "more-photos" }, { file: "pipe.jpg" }, { file: "zero.jpg" }] });
    expect(human.stdout).toMatch(/^zero\.jpg\s+-\s+-\s+skipped\s+a link to a device, not a photo$/m);
  });

  it.each([
    [["score", "empty", "--selfies", "selfies"], "E_SCORE_EMPTY", "no images in"],
    [["score", "out"], "E_SCORE_REFERENCE", "--identity <name>"],
    [["score", "out", "--identity", "jane", "--selfies", "selfies"], "E_SCORE_REFERENCE", "not both"],
    [["score", "out", "--identity", "jame"], "E_IDENTITY_NOT_FOUND", "did you mean jane"],
    [["score", "missing", "--identity", "jane"], "E_SCORE_DIR", "is not a folder"],
    [["score", "out", "--identity", "jane", "--checkpoints"], "E_SCORE_SAMPLES", "no ai-toolkit samples"],
  ])("%j exits 2 with %s", async (argv, code, text) => {
    await mkdir(join(dir, "empty"), { recursive: true });
    const r = await runCli([...argv, "--json"], { cwd: dir, env });
    expect(r.code).toBe(2);
    const last = r.json().at(-1)!;
    expect(JSON.stringify(last)).toContain(code);
    expect(JSON.stringify(last)).toContain(text);
  });
});
