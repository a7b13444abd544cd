// Benchmark for issue 7: `headshot gen` batch throughput and memory against the Replicate emulator.
// Each prediction takes a fixed latency L; a batch of N images at concurrency C ideally takes
// ceil(N/C) x L. Target: wall / ideal <= 1.10 for N=200, C=8, L=300 ms, and the CLI's peak RSS
// under 200 MB whatever N is (outputs are streamed to disk, never held in memory as a batch).
//
// The built CLI (bin/headshot.js -> dist/) runs as a child process, like a user runs it; the
// emulator (test/support/replicate-emulator, transpiled on the fly) runs in this process.
// "wall" is the engine's own time from the first job to the last image landing (the summary's
// `seconds`); the whole process time (Node start-up, preset load, schema check) is reported too.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");

/** The emulator is TypeScript: transpile it (types stripped, nothing else) next to node_modules. */
export async function loadEmulator() {
  const ts = (await import("typescript")).default;
  const src = join(repo, "test", "support", "replicate-emulator");
  const cache = join(repo, "node_modules", ".cache", "headshot-bench");
  const out = join(cache, "support", "replicate-emulator");
  await mkdir(out, { recursive: true });
  // The emulator reads the recorded schemas at ../../fixtures from its own folder (recorded-schemas.ts).
  await symlink(join(repo, "test", "fixtures"), join(cache, "fixtures")).catch((error) => {
    if (error.code !== "EEXIST") throw error;
  });
  for (const name of (await readdir(src)).filter((n) => n.endsWith(".ts"))) {
    const text = await readFile(join(src, name), "utf8");
    const js = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } }).outputText;
    await writeFile(join(out, name.replace(/\.ts$/, ".js")), js);
  }
  const index = await import(pathToFileURL(join(out, "index.js")).href);
  const catalog = await import(pathToFileURL(join(out, "catalog.js")).href);
  return { ...index, ...catalog };
}

// Reports the child's peak RSS on exit (stderr is a pipe: synchronous on Linux).
// Its CPU time too (all threads: the face-model workers and libvips' pool count).
export const RSS_PROBE = `data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nHEADSHOT_BENCH_MAXRSS_KB="+u.maxRSS+" HEADSHOT_BENCH_CPU_US="+(u.userCPUTime+u.systemCPUTime)+" heap="+JSON.stringify(process.memoryUsage())+"\\n")})`;

/** The CPU seconds a child reported through RSS_PROBE (NaN without it). */
export const cpuSecondsOf = (stderr) => Number(stderr.match(/HEADSHOT_BENCH_CPU_US=(\d+)/)?.[1] ?? NaN) / 1e6;

export function runCli(args, env) {
  return new Promise((resolve) => {
    const started = performance.now();
    execFile(
      process.execPath,
      ["--import", RSS_PROBE, join(repo, "bin", "headshot.js"), ...args],
      { env: { ...process.env, ...env }, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const wallMs = performance.now() - started;
        const rss = Number(stderr.match(/HEADSHOT_BENCH_MAXRSS_KB=(\d+)/)?.[1] ?? NaN);
        const lines = stdout.split("\n").filter((l) => l.trim());
        let summary;
        try {
          summary = JSON.parse(lines.at(-1) ?? "{}");
        } catch {
          summary = {};
        }
        resolve({ code: error ? error.code : 0, wallMs, rssMb: rss / 1024, cpuS: cpuSecondsOf(stderr), summary, stderr });
      },
    );
  });
}

/** A trained version of `name` in the emulator (the recorded trained-version schema); returns its ref. */
export function registerModel(emu, catalog, name) {
  const hex = createHash("sha256").update(name).digest("hex");
  const now = Date.now();
  emu.state.models.set(`jane-doe/${name}`, {
    owner: "jane-doe", name, description: null, visibility: "private", is_official: false, hardware: "gpu-t4",
    versions: [{ id: hex, created_at: now, cog_version: "0.14.0", openapi_schema: catalog.trainedVersionSchema() }],
    run_count: 0, created_at: now,
  });
  return `jane-doe/${name}:${hex}`;
}

/** The identity "bench" on that version, with the given selfie summary. */
export async function saveBenchIdentity(home, version, selfies) {
  const { saveIdentity } = await import(pathToFileURL(join(repo, "dist", "identity", "registry.js")).href);
  await saveIdentity(home, {
    schemaVersion: 1, name: "bench", trigger: "ohwx", classWord: "woman", backend: "replicate", baseModel: "flux1-dev", recipe: "balanced",
    lora: { path: "/dev/null", sha256: "0".repeat(64), bytes: 1 },
    training: { steps: 1000, rank: 16, lr: 0.0004, resolutions: [1024] },
    dataset: { dir: "/dev/null", hash: "0".repeat(64), images: 12, sourceDir: "/dev/null" },
    selfies,
    createdAt: new Date().toISOString(),
    replicate: { version },
  });
}

async function setup(emu, catalog, home, name) {
  await saveBenchIdentity(home, registerModel(emu, catalog, name), { verdict: "ok", usable: 12, total: 12 });
}

async function batch(emuModule, catalog, { n, c, latencyMs, longSide, format }) {
  const emu = await emuModule.startReplicateEmulator({ latencyMs, startingFraction: 0.1, imageLongSide: longSide });
  const dir = await mkdtemp(join(tmpdir(), "headshot-bench-gen-"));
  try {
    const home = join(dir, "home");
    await setup(emu, catalog, home, `bench-${n}-${longSide}`);
    const out = join(dir, "out");
    const result = await runCli(
      ["--json", "gen", "--preset", "corporate", "--identity", "bench", "--count", String(n), "--seed", "1", "--concurrency", String(c), "--format", format, "--out", out, "--no-score"],
      { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl },
    );
    // The contact sheet is a PNG too: count only the batch images (their names end in -<seed>.<ext>).
    const images = (await readdir(out)).filter((f) => f.endsWith(`.${format}`) && f !== "contact-sheet.png").length;
    const creates = emu.requests.filter((r) => r.createdId).length;
    return { ...result, images, creates };
  } finally {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function memoryProbe(n) {
  const emuModule = await loadEmulator();
  const r = await batch(emuModule, emuModule, { n, c: 8, latencyMs: 100, longSide: 1024, format: "jpg" });
  return { rssMb: Math.round(r.rssMb), heap: r.stderr.match(/heap=(.*)/)?.[1], code: r.code };
}

export default async function genBatchBench() {
  const emuModule = await loadEmulator();
  const N = 200;
  const C = 8;
  const L = 300;
  const ideal = Math.ceil(N / C) * L;
  // 1. Throughput: small outputs, so the prediction latency is what the engine has to hide.
  const speed = await batch(emuModule, emuModule, { n: N, c: C, latencyMs: L, longSide: 64, format: "png" });
  const engineMs = (speed.summary.seconds ?? NaN) * 1000;
  const ratio = engineMs / ideal;
  // 2. Memory: real-sized outputs (about 1 MP), a small and a large batch; peak RSS must stay flat.
  const small = await batch(emuModule, emuModule, { n: 25, c: C, latencyMs: 100, longSide: 1024, format: "jpg" });
  const large = await batch(emuModule, emuModule, { n: N, c: C, latencyMs: 100, longSide: 1024, format: "jpg" });
  const ok = speed.code === 0 && small.code === 0 && large.code === 0 && speed.images === N && large.images === N && speed.creates === N && large.creates === N;
  const pass = ok && ratio <= 1.1 && small.rssMb < 200 && large.rssMb < 200 && speed.rssMb < 200;
  return {
    name: "gen batch on the Replicate emulator",
    target: "wall/ideal <= 1.10 (N=200, C=8, L=300 ms); peak RSS < 200 MB for any N",
    pass,
    metrics: {
      "wall/ideal": Number(ratio.toFixed(3)),
      "engine wall s": Number((engineMs / 1000).toFixed(2)),
      "ideal s": ideal / 1000,
      "process wall s": Number((speed.wallMs / 1000).toFixed(2)),
      "peak RSS MB (200 x 64px)": Math.round(speed.rssMb),
      "peak RSS MB (25 x 1MP)": Math.round(small.rssMb),
      "peak RSS MB (200 x 1MP)": Math.round(large.rssMb),
      "1MP batch wall s": Number((large.wallMs / 1000).toFixed(1)),
    },
    notes:
      (ok ? "" : `a run failed: exit ${speed.code}/${small.code}/${large.code}, images ${speed.images}/${large.images}, creates ${speed.creates}/${large.creates}. ${speed.stderr.slice(-300)} `) +
      "Each create holds with Prefer: wait (https://replicate.com/docs/topics/predictions/create-a-prediction), so a prediction costs one request; a slot is freed as soon as its prediction ends " +
      "(download and re-encoding overlap the next prediction); manifest writes are atomic and coalesced (at most 10/s). " +
      "The emulator notices a finished prediction on a 25 ms tick, about 12 ms per wave of the gap to ideal. " +
      "The 1 MP runs are CPU-bound on this machine (the emulator renders and the CLI re-encodes every image), so only their memory is a target; " +
      "Runs use --no-score: this measures the generation engine (streamed downloads); likeness scoring after the batch adds the face models' constant ~150 MB whatever N is (measured by the scoring bench). " +
      "RSS grows little past ~100 images (V8 heap and libvips malloc arenas; MALLOC_ARENA_MAX=2 saves about 30 MB).",
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${JSON.stringify(await genBatchBench(), null, 2)}\n`);
}
