// Issue 18: `gen` with likeness scoring on, as a user runs it (defaults: scoring while generating,
// the corporate preset's format), against the two things it combines, each run alone in the same
// bench run: a lean client making the same 200 predictions (plain fetch, C=8, Prefer: wait, each
// output downloaded to a file) and `headshot score` of the same files (a fresh HEADSHOT_HOME, so
// nothing is cached). Target: gen wall <= 1.15 x max(lean client, score).
// The emulator (test/support/replicate-emulator) runs in this process with L = 300 ms and serves
// 1 MP portraits of the identity built from the public-domain fixture (test/fixtures/faces).
// Every side is a child process timed from spawn to exit (Node start-up and model loads included).
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import sharp from "sharp";
import { cpuSecondsOf, loadEmulator, registerModel, RSS_PROBE, runCli, saveBenchIdentity } from "./gen-batch.bench.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const FACE = join(repo, "test", "fixtures", "faces", "astronaut.png");
const N = 200;
const C = 8;
const L = 300;
const dist = (p) => pathToFileURL(join(repo, "dist", p)).href;

/** Eight 1024 px portraits of the identity: framed, lit and backed differently. */
async function portraits() {
  const out = [];
  for (let i = 0; i < 8; i++) {
    const side = 560 + i * 50;
    const face = await sharp(FACE).removeAlpha().resize(side, side).modulate({ brightness: 0.85 + i * 0.04, hue: i * 7 }).png().toBuffer();
    out.push(
      await sharp({ create: { width: 1024, height: 1024, channels: 3, background: `hsl(${i * 45}, 30%, 50%)` } })
        .composite([{ input: face, left: Math.round((1024 - side) / 2), top: Math.round((1024 - side) * 0.35) }])
        .png()
        .toBuffer(),
    );
  }
  return out;
}

/** Six selfies of the same person; `check` measures them once for the identity's reference. */
async function selfieSummary(dir, home) {
  await mkdir(dir, { recursive: true });
  const crops = [[0, 0, 512], [60, 0, 452], [0, 10, 440], [110, 10, 300], [30, 40, 450], [16, 0, 480]];
  for (const [i, [left, top, size]] of crops.entries()) {
    let img = sharp(FACE).removeAlpha().extract({ left, top, width: size, height: Math.min(size, 512 - top) }).resize(1100);
    if (i % 2) img = img.flop();
    await img.modulate({ brightness: 0.9 + i * 0.04 }).jpeg({ quality: 92 }).toFile(join(dir, `s${i}.jpg`));
  }
  const { runCheck } = await import(dist("selfies/index.js"));
  const { embeddingCentroid } = await import(dist("identity/registry.js"));
  const { DESCRIPTOR_MODEL } = await import(dist("scoring/calibration.js"));
  const { closeFaceModel } = await import(dist("selfies/faces.js"));
  const report = await runCheck(dir, { home });
  await closeFaceModel();
  const embeddings = report.images.filter((i) => i.verdict !== "reject" && i.embedding).map((i) => i.embedding);
  return {
    verdict: report.set.verdict,
    usable: report.set.usable,
    total: report.set.total,
    selfSimilarity: report.set.selfSimilarity,
    embedding: { model: DESCRIPTOR_MODEL, dims: embeddings[0].length, count: embeddings.length, centroid: embeddingCentroid(embeddings) },
  };
}

// The lean client: the same creates as the CLI's (path and body copied from its first create),
// 8 at a time, each held with Prefer: wait, its output downloaded to a file. Nothing else.
const LEAN = `
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
const [base, token, path, bodyJson, n, c, out] = process.argv.slice(1);
const body = JSON.parse(bodyJson);
const headers = { authorization: "Bearer " + token, "content-type": "application/json", prefer: "wait" };
let next = 0;
async function one(i) {
  const input = { ...body.input, seed: i + 1 };
  let p = await (await fetch(base + path, { method: "POST", headers, body: JSON.stringify({ ...body, input }) })).json();
  if (!p.urls) throw new Error("create failed: " + JSON.stringify(p));
  while (p.status !== "succeeded" && p.status !== "failed" && p.status !== "canceled") {
    await new Promise((r) => setTimeout(r, 100));
    p = await (await fetch(p.urls.get, { headers })).json();
  }
  const urls = [].concat(p.output ?? []);
  for (const [k, url] of urls.entries()) await writeFile(join(out, i + "-" + k), Buffer.from(await (await fetch(url)).arrayBuffer()));
}
await Promise.all(Array.from({ length: Number(c) }, async () => { while (next < Number(n)) await one(next++); }));
`;

function lean(args) {
  return new Promise((resolve) => {
    const started = performance.now();
    execFile(process.execPath, ["--import", RSS_PROBE, "--input-type=module", "-e", LEAN, ...args], { maxBuffer: 1 << 20 }, (error, _stdout, stderr) =>
      resolve({ code: error ? error.code : 0, wallMs: performance.now() - started, cpuS: cpuSecondsOf(stderr), stderr }),
    );
  });
}

const cpuSeconds = (usage) => (usage.user + usage.system) / 1e6;

export default async function genScoreBench() {
  const emuModule = await loadEmulator();
  const root = await mkdtemp(join(tmpdir(), "headshot-bench-gen-score-"));
  const served = await portraits();
  const start = (emu) => {
    emu.state.outputImage = (input) => served[Number(input.seed) % served.length];
    return emu;
  };
  try {
    const selfies = await selfieSummary(join(root, "selfies"), join(root, "check-home"));
    const out = join(root, "out");
    // 1. gen with scoring on (the default), as a user runs it.
    const emu1 = start(await emuModule.startReplicateEmulator({ latencyMs: L, startingFraction: 0.1, imageLongSide: 1024 }));
    let gen;
    let create;
    // The emulator's own CPU (rendering and serving 1 MP PNGs) is this process's, on the same cores.
    const genEmulatorCpu = process.cpuUsage();
    try {
      const version = await registerModel(emu1, emuModule, "bench-gen-score");
      await saveBenchIdentity(join(root, "home-gen"), version, selfies);
      gen = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "bench", "--count", String(N), "--seed", "1", "--concurrency", String(C), "--out", out], {
        HEADSHOT_HOME: join(root, "home-gen"), REPLICATE_API_TOKEN: emu1.token, REPLICATE_BASE_URL: emu1.baseUrl,
      });
      create = emu1.requests.find((r) => r.createdId && r.method === "POST");
    } finally {
      await emu1.close();
    }
    const genEmulatorS = cpuSeconds(process.cpuUsage(genEmulatorCpu));
    const images = (await readdir(out)).filter((f) => /-\d+\.(png|jpg|webp)$/.test(f));
    // 2. The lean client, same latency, same number of predictions, same outputs.
    const emu2 = start(await emuModule.startReplicateEmulator({ latencyMs: L, startingFraction: 0.1, imageLongSide: 1024 }));
    let leanRun;
    const leanEmulatorCpu = process.cpuUsage();
    try {
      await registerModel(emu2, emuModule, "bench-gen-score");
      const leanOut = join(root, "lean");
      await mkdir(leanOut, { recursive: true });
      // The logged path is absolute (/v1/...); baseUrl ends in /v1.
      leanRun = await lean([new URL(emu2.baseUrl).origin, emu2.token, create?.path ?? "/v1/predictions", JSON.stringify(create?.body ?? {}), String(N), String(C), leanOut]);
    } finally {
      await emu2.close();
    }
    const leanEmulatorS = cpuSeconds(process.cpuUsage(leanEmulatorCpu));
    // 3. `headshot score` of the files gen wrote, with nothing cached.
    await saveBenchIdentity(join(root, "home-score"), "jane-doe/x:0", selfies);
    const score = await runCli(["--json", "score", out, "--identity", "bench"], { HEADSHOT_HOME: join(root, "home-score") });
    const scored = score.summary?.scored ?? score.summary?.count ?? score.summary?.images;
    const base = Math.max(leanRun.wallMs, score.wallMs);
    const ratio = gen.wallMs / base;
    const ok = gen.code === 0 && leanRun.code === 0 && score.code === 0 && images.length === N;
    const verdicts = gen.summary?.curation ?? gen.summary?.scoring ?? {};
    return {
      name: `gen ${N} images at C=${C}, L=${L} ms, scoring on`,
      target: "gen wall <= 1.15 x max(lean client, score of the same files); peak RSS < 400 MB",
      pass: ok && ratio <= 1.15 && gen.rssMb < 400,
      metrics: {
        "gen s": (gen.wallMs / 1000).toFixed(1),
        "lean client s": (leanRun.wallMs / 1000).toFixed(1),
        "score s": (score.wallMs / 1000).toFixed(1),
        ratio: ratio.toFixed(2),
        "gen peak RSS MB": Math.round(gen.rssMb),
        "score peak RSS MB": Math.round(score.rssMb),
        "gen CPU s (+ emulator)": `${gen.cpuS.toFixed(1)} (+ ${genEmulatorS.toFixed(1)})`,
        "lean CPU s (+ emulator)": `${leanRun.cpuS.toFixed(1)} (+ ${leanEmulatorS.toFixed(1)})`,
        "score CPU s": score.cpuS.toFixed(1),
        // No schedule on these cores can end before all that CPU work is done.
        "gen CPU floor s": ((gen.cpuS + genEmulatorS) / cpus().length).toFixed(1),
        images: images.length,
        ...(scored !== undefined ? { "score images": scored } : {}),
      },
      notes:
        (ok ? "" : `a run failed: gen exit ${gen.code}, lean exit ${leanRun.code} ${leanRun.stderr.slice(-300)}, score exit ${score.code} ${score.stderr.slice(-300)}; images ${images.length}. `) +
        `Each side a child process timed spawn to exit; the emulator in the bench process serves 1 MP PNG portraits (re-encoded per request). ` +
        `gen scores each image as it lands (src/generate/score-queue.ts, 2 face-model workers) and then curates (gallery, contact sheet). ` +
        `score: a fresh HEADSHOT_HOME, so every file is decoded and analysed. ideal generation alone: ${((Math.ceil(N / C) * L) / 1000).toFixed(1)} s. ` +
        `curation summary: ${JSON.stringify(verdicts).slice(0, 200)}`,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${JSON.stringify(await genScoreBench(), null, 2)}\n`);
}
