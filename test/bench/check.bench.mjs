// Benchmark for issue 3: `check --fix` on 20 selfies of 12 MP (4032x3024 JPEG, built from
// test/fixtures/faces) against a photoshot-style preprocessing of the same files (smartcrop-sharp
// saliency crop to 1024, which is all that product does), measured in the same run.
// Target: check --fix (face detection, embeddings, quality checks, crops, report, contact sheet)
// takes no longer than the baseline. Each side runs in its own child process (fresh
// HEADSHOT_HOME, so no cached analysis) and reports its wall time and peak RSS.
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import sharp from "sharp";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const faces = join(repo, "test", "fixtures", "faces");
const run = promisify(execFile);

/** 20 portrait-ish 12 MP photos: the astronaut cropped, flipped and re-lit, upscaled to 4032x3024. */
async function buildSelfies(dir) {
  await mkdir(dir, { recursive: true });
  const jobs = [];
  // Sensor-like grain so the JPEGs are phone-sized (1-2 MB), not flat upscales.
  const noise = await sharp({ create: { width: 4032, height: 3024, channels: 3, noise: { type: "gaussian", mean: 128, sigma: 6 } } }).raw().toBuffer();
  for (let i = 0; i < 20; i++) {
    const w = 400 - (i % 5) * 24;
    const left = (i * 37) % (512 - w);
    const top = (i * 13) % 40;
    let img = sharp(join(faces, "astronaut.png")).removeAlpha().extract({ left, top, width: w, height: Math.round(w * 0.75) });
    if (i % 2) img = img.flop();
    img = img.resize(4032, 3024).modulate({ brightness: 0.9 + (i % 4) * 0.07 });
    jobs.push(
      img
        .composite([{ input: noise, raw: { width: 4032, height: 3024, channels: 3 }, blend: "overlay" }])
        .jpeg({ quality: 90 })
        .toFile(join(dir, `IMG_${String(1000 + i)}.jpg`)),
    );
    if (jobs.length === 2) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

const BASELINE = `
import { readdir, mkdir } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import smartcrop from "smartcrop-sharp";
const [dir, out] = process.argv.slice(1);
await mkdir(out, { recursive: true });
const t0 = performance.now();
for (const f of (await readdir(dir)).sort()) {
  const src = join(dir, f);
  const { topCrop } = await smartcrop.crop(src, { width: 1024, height: 1024 });
  await sharp(src).extract({ left: topCrop.x, top: topCrop.y, width: topCrop.width, height: topCrop.height }).resize(1024, 1024).jpeg().toFile(join(out, f));
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
`;

const CHECK = `
const [dir, out, home, dist] = process.argv.slice(1);
const t0 = performance.now();
const { runCheck, prepareTrainingSet } = await import(dist);
const report = await runCheck(dir, { home });
const prepared = await prepareTrainingSet(report, out, { trigger: "ohwx", classWord: "person" });
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ ms, maxRssMb: process.resourceUsage().maxRSS / 1024, usable: report.set.usable, prepared: prepared.images.length, verdict: report.set.verdict }));
`;

async function child(code, args) {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", code, ...args], { cwd: repo, maxBuffer: 1 << 20 });
  return JSON.parse(stdout);
}

export default async function bench() {
  const root = await mkdtemp(join(tmpdir(), "headshot-bench-check-"));
  try {
    const dir = join(root, "selfies");
    await buildSelfies(dir);
    const dist = pathToFileURL(join(repo, "dist", "selfies", "index.js")).href;
    // Warm the OS file cache for both sides equally.
    await child(BASELINE, [dir, join(root, "warm")]);
    const baseline = await child(BASELINE, [dir, join(root, "baseline")]);
    const check = await child(CHECK, [dir, join(root, "prepared"), join(root, "home"), dist]);
    const ratio = check.ms / baseline.ms;
    return {
      name: "check --fix, 20 x 12 MP selfies",
      target: "check --fix time <= 1.5x a smartcrop-sharp crop of the same files; peak RSS < 400 MB",
      pass: ratio <= 1.5 && check.maxRssMb < 400,
      metrics: {
        checkSeconds: (check.ms / 1000).toFixed(1),
        baselineSeconds: (baseline.ms / 1000).toFixed(1),
        ratio: ratio.toFixed(2),
        checkPeakRssMb: Math.round(check.maxRssMb),
        baselinePeakRssMb: Math.round(baseline.maxRssMb),
        usable: check.usable,
        prepared: check.prepared,
      },
      notes:
        "check: one shrink-on-load decode per photo to ~1000 px, faces (Human BlazeFace + mesh, then face-api 68 landmarks x3 + dlib ResNet descriptor, tfjs WASM) in up to 2 worker threads on that copy, quality measures on the same copy, then one extract+resize per training crop, a contact sheet and report.json. Baseline: smartcrop-sharp per photo, sequential. Both are timed from the first file to the last output, in separate child processes on a cold cache; check includes loading the models. Each model worker holds its own WASM heap (about 160 MB once it has seen a 1000 px photo): that, not the photos, is the peak RSS. The machine is shared, so the absolute numbers vary from run to run.",
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${JSON.stringify(await bench(), null, 2)}\n`);
}
