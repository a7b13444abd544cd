/**
 * `headshot check` in-process with the real face models, real sharp and real files: every planted
 * defect (test/support/selfies/build.ts) must come back with the right verdict and reason, and
 * --fix must write a deterministic, metadata-free training folder.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import exifr from "exifr";
import { main } from "../../src/cli/main.js";
import type { CliDeps } from "../../src/cli/context.js";
import { detectFaces } from "../../src/selfies/faces.js";
import { astronaut, buildPlantedFolder, writeAll } from "../support/selfies/build.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  lines: Array<Record<string, unknown>>;
}

async function run(argv: string[], env: Record<string, string>, cwd = tmpdir()): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const deps: CliDeps = {
    cwd,
    env,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdinIsTTY: false,
    signal: new AbortController().signal,
  };
  const code = await main(argv, deps);
  const lines = argv.includes("--json") ? stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  return { code, stdout, stderr, lines };
}

/** Expected verdict and reason codes for every planted file. */
const EXPECTED: Record<string, [string, string[]]> = {
  "a-full.jpg": ["reject", ["duplicate"]], // exact copy of a-full-copy.jpg (first by name is kept)
  "a-full-copy.jpg": ["reject", ["near_duplicate"]], // same shot as a-full-again.png, which is sharper
  "a-full-again.png": ["ok", []],
  "a-flip.jpg": ["ok", []],
  "a-relit.jpg": ["ok", []],
  "a-rotated.jpg": ["ok", []],
  "a-tight.jpg": ["ok", []],
  "a-wide.jpg": ["ok", []],
  "a-orient6.jpg": ["ok", []],
  "a-orient8.jpg": ["ok", []],
  "a-gps.jpg": ["ok", []],
  "a-lowres.jpg": ["warn", ["low_resolution"]],
  "a-blurry.jpg": ["reject", ["blurry"]],
  "a-dark.jpg": ["reject", ["too_dark"]],
  "a-tiny-face.jpg": ["reject", ["face_too_small"]],
  "b-other-person.jpg": ["reject", ["identity_outlier"]],
  "group.jpg": ["reject", ["multiple_faces"]],
  "small.jpg": ["reject", ["too_small", "face_small"]],
  "truncated.jpg": ["reject", ["unreadable"]],
  "empty.jpg": ["reject", ["empty_file"]],
  "notes.txt": ["reject", ["not_an_image"]],
  "bomb.png": ["reject", ["too_many_pixels"]],
  "iphone.heic": ["reject", ["unreadable"]],
};

describe("headshot check on a planted folder", () => {
  let root: string;
  let dir: string;
  let out: string;
  let env: Record<string, string>;
  let first: Run;
  let images: Array<Record<string, unknown> & { file: string; verdict: string; reasons: Array<{ code: string; message: string; fix: string }> }>;
  let summary: Record<string, unknown> & { set: Record<string, unknown>; prepared: { dir: string; datasetHash: string; images: Array<{ file: string; source: string; caption: string; kind: string; faceBox: number[] }> } };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "headshot-check-"));
    dir = join(root, "selfies");
    out = join(root, "prepared");
    env = { HEADSHOT_HOME: join(root, "home"), HOME: root };
    await buildPlantedFolder(dir);
    first = await run(["check", dir, "--json", "--fix", "--out", out, "--trigger", "zwx", "--class", "woman"], env);
    images = first.lines.filter((l) => l.type === "image") as typeof images;
    summary = first.lines.at(-1) as typeof summary;
  }, 300_000);

  it("exits 0 and ends --json output with the summary", () => {
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(summary).toMatchObject({ type: "summary", ok: true });
    expect(first.lines.filter((l) => l.type === "set")).toHaveLength(1);
  });

  it("gives every planted file the right verdict and reason", () => {
    const got = Object.fromEntries(images.map((i) => [i.file, [i.verdict, i.reasons.map((r) => r.code)]]));
    expect(got).toEqual(EXPECTED);
    for (const image of images) for (const r of image.reasons) expect(r.fix.length).toBeGreaterThan(10);
    expect(images.every((i) => !("embedding" in i))).toBe(true);
  });

  it("explains the defects in words a person understands", () => {
    const reason = (file: string) => images.find((i) => i.file === file)!.reasons[0]!.message;
    expect(reason("a-full.jpg")).toBe("Exact copy of a-full-copy.jpg.");
    expect(reason("a-full-copy.jpg")).toMatch(/same shot as a-full-again\.png \(kept, it is sharper\)/);
    expect(reason("b-other-person.jpg")).toMatch(/does not look like the rest of the set/);
    expect(reason("group.jpg")).toMatch(/^2 faces were found/);
    expect(reason("bomb.png")).toMatch(/50000x50000/);
    expect(reason("iphone.heic")).toMatch(/HEIC/);
  });

  it("applies EXIF orientation before detecting", () => {
    for (const file of ["a-orient6.jpg", "a-orient8.jpg"]) {
      const image = images.find((i) => i.file === file) as unknown as { width: number; height: number; face: { roll: number } };
      expect(image.height).toBeGreaterThan(image.width); // stored landscape, shown portrait
      expect(Math.abs(image.face.roll)).toBeLessThan(15);
    }
  });

  it("judges the set: usable count, mix and pose advice, self-similarity", () => {
    expect(summary.set).toMatchObject({ verdict: "warn", usable: 10, total: 23, closeups: expect.any(Number), wide: expect.any(Number) });
    const advice = (summary.set.advice as string[]).join(" ");
    expect(advice).toMatch(/13 photos are left out/);
    expect(advice).toMatch(/three-quarter/);
    const sim = summary.set.selfSimilarity as { mean: number; min: number; count: number };
    expect(sim.count).toBe(45);
    expect(sim.min).toBeGreaterThan(0.55);
  });

  it("writes 1024 px crops with the face centred and captions with the trigger and class", async () => {
    const files = (await readdir(join(out, "images"))).sort();
    const jpgs = files.filter((f) => f.endsWith(".jpg"));
    expect(jpgs).toHaveLength(10);
    expect(files.filter((f) => f.endsWith(".txt"))).toHaveLength(10);
    expect(files).toHaveLength(20);
    const kinds = summary.prepared.images.map((i) => i.kind);
    expect(kinds.filter((k) => k === "wide").length).toBeGreaterThanOrEqual(1);
    for (const item of summary.prepared.images) {
      const bytes = await readFile(join(out, "images", item.file));
      const meta = await sharp(bytes).metadata();
      expect([meta.width, meta.height, meta.format]).toEqual([1024, 1024, "jpeg"]);
      const caption = await readFile(join(out, "images", item.file.replace(/\.jpg$/, ".txt")), "utf8");
      expect(caption.startsWith("zwx woman, ")).toBe(true);
      expect(caption.trim()).toBe(item.caption);
      // Detect again in the output: the face is where the plan says, centred horizontally.
      const [face] = await detectFaces(bytes);
      const cx = face!.box[0] + face!.box[2] / 2;
      const cy = face!.box[1] + face!.box[3] / 2;
      expect(Math.abs(cx - (item.faceBox[0]! + item.faceBox[2]! / 2))).toBeLessThan(40);
      expect(Math.abs(cy - (item.faceBox[1]! + item.faceBox[3]! / 2))).toBeLessThan(40);
      if (item.kind === "closeup") {
        // Head and shoulders: the face spans ~1/2.6 of the crop (more when the source is tighter).
        expect(face!.box[2]).toBeGreaterThan(300);
        expect(face!.box[2]).toBeLessThan(600);
      } else {
        expect(face!.box[2]).toBeLessThan(300);
      }
      expect(Math.abs(face!.roll)).toBeLessThan(15); // upright, including the EXIF-rotated sources
    }
  });

  it("strips all EXIF, GPS included, from the outputs", async () => {
    const gpsSource = await exifr.gps(join(dir, "a-gps.jpg"));
    expect(gpsSource?.latitude).toBeCloseTo(48.858, 2); // the planted tag is really there
    const fromGps = summary.prepared.images.find((i) => i.source === "a-gps.jpg")!;
    for (const item of summary.prepared.images) {
      const bytes = await readFile(join(out, "images", item.file));
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.icc).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(await exifr.parse(bytes, { gps: true })).toBeUndefined();
    }
    expect(fromGps).toBeDefined();
  });

  it("writes report.json without absolute paths and a contact sheet of every input", async () => {
    const reportText = await readFile(join(out, "report.json"), "utf8");
    expect(reportText).not.toContain(root);
    const report = JSON.parse(reportText) as { images: unknown[]; datasetHash: string; trigger: string };
    expect(report.images).toHaveLength(23);
    expect(report).toMatchObject({ trigger: "zwx", class: "woman", datasetHash: summary.prepared.datasetHash });
    const sheet = await sharp(join(out, "contact-sheet.png")).metadata();
    expect(sheet.format).toBe("png");
    expect(sheet.width).toBe(5 * 248 + 8);
    expect(sheet.height).toBe(5 * (240 + 44 + 8) + 8);
  });

  it("caches the analysis in HEADSHOT_HOME and produces the same bytes again", async () => {
    const cached = await readdir(join(env.HEADSHOT_HOME!, "cache", "selfies"), { recursive: true });
    expect(cached.filter((f) => f.endsWith(".json")).length).toBeGreaterThanOrEqual(15);
    const out2 = join(root, "prepared-again");
    const again = await run(["check", dir, "--json", "--fix", "--out", out2, "--trigger", "zwx", "--class", "woman"], env);
    expect(again.code).toBe(0);
    const files = (await readdir(out2, { recursive: true })).sort();
    expect(files).toEqual((await readdir(out, { recursive: true })).sort());
    for (const f of files.filter((x) => x.includes("."))) {
      expect((await readFile(join(out2, f))).equals(await readFile(join(out, f))), f).toBe(true);
    }
    // Running again into the same folder replaces it (it is ours).
    expect((await run(["check", dir, "--json", "--fix", "--out", out, "--trigger", "zwx", "--class", "woman"], env)).code).toBe(0);
  });

  it("prints a table a person can scan, the set verdict and the contact sheet path", async () => {
    const human = await run(["check", dir], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^file\s+verdict\s+reasons/m);
    expect(human.stdout).toMatch(/^a-blurry\.jpg\s+reject\s+The face is blurry/m);
    expect(human.stdout).toMatch(/^a-flip\.jpg\s+ok\s*$/m);
    expect(human.stdout).toMatch(/Set: warn, 10 of 23 photos usable/);
    const sheet = /Contact sheet: (.+\.png)/.exec(human.stdout)![1]!;
    expect(sheet.startsWith(join(env.HEADSHOT_HOME!, "contact-sheets"))).toBe(true);
    expect((await sharp(sheet).metadata()).format).toBe("png");
    expect(human.stderr).toMatch(/--fix/);
  });
});

describe("headshot check exit codes", () => {
  it("rejects a set with fewer than 6 usable photos with exit 6 and writes nothing", async () => {
    const root = await mkdtemp(join(tmpdir(), "headshot-check-few-"));
    const dir = join(root, "few");
    await writeAll(dir, {
      "one.jpg": await astronaut({ size: 1024 }),
      "two.jpg": await astronaut({ region: { left: 60, top: 0, width: 452, height: 452 }, flip: true, size: 1024 }),
      "three.txt": "not a photo",
    });
    const r = await run(["check", dir, "--json", "--fix"], { HEADSHOT_HOME: join(root, "home") });
    expect(r.code).toBe(6);
    const last = r.lines.at(-1)!;
    expect(last).toMatchObject({ type: "summary", ok: false, error: { code: "E_SELFIES_REJECTED", exitCode: 6 } });
    expect(r.lines.find((l) => l.type === "set")).toMatchObject({ verdict: "reject", usable: 2, total: 3 });
    await expect(readdir(join(dir, "headshot-prepared"))).rejects.toThrow();
  });

  it("exits 2 for a missing folder, a bad --class or --trigger, and a foreign --out folder", async () => {
    const root = await mkdtemp(join(tmpdir(), "headshot-check-usage-"));
    const env = { HEADSHOT_HOME: join(root, "home") };
    const missing = await run(["check", join(root, "nope")], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/does not exist/);
    expect(missing.stderr).toMatch(/How to fix:/);
    expect((await run(["check", root, "--class", "dog"], env)).stderr).toMatch(/--class must be one of man, woman, person/);
    expect((await run(["check", root, "--trigger", "two words"], env)).code).toBe(2);
    const dir = join(root, "ok");
    const photos: Record<string, Buffer> = {};
    const crops = [0, 20, 40, 60, 80, 100];
    for (const [i, left] of crops.entries()) photos[`p${i}.jpg`] = await astronaut({ region: { left, top: i * 8, width: 400, height: 460 - i * 8 }, size: 1024, flip: i % 2 === 1 });
    await writeAll(dir, photos);
    const foreign = join(root, "foreign");
    await mkdir(foreign);
    await writeFile(join(foreign, "keep-me.txt"), "mine");
    const r = await run(["check", dir, "--fix", "--out", foreign], env);
    expect(r.stderr).toMatch(/refusing to overwrite/);
    expect(r.code).toBe(2);
    expect(await readFile(join(foreign, "keep-me.txt"), "utf8")).toBe("mine");
  });
});
