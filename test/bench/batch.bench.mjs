// Benchmark for issue 10: a 10-person `headshot batch` against the Replicate emulator.
// 10 people x 2 presets x 4 images = 80 predictions of fixed latency L at concurrency C; the
// ideal is ceil(80/C) x L. Measured: the batch's wall time from its first event to its summary
// (every per-person step, manifest, preset load and schema check included), the whole process
// time, the CLI's peak RSS, and a re-run (must create nothing). Run twice: L = 1.5 s (FLUX dev on
// Replicate takes about 3 s) for the target, and L = 0.3 s to show the fixed cost per wave.
// Targets: batch wall / ideal <= 1.25 at L = 1.5 s; peak RSS < 250 MB.
// The built CLI runs as a child process; the emulator (transpiled like gen-batch.bench.mjs) runs here.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const PEOPLE = 10;
const PER_PRESET = 4;
const C = 8;

const RSS_PROBE = `data:text/javascript,process.on("exit",()=>process.stderr.write("\\nHEADSHOT_BENCH_MAXRSS_KB="+process.resourceUsage().maxRSS+"\\n"))`;

/** Runs the CLI, stamping every NDJSON line as it arrives. */
function runCli(args, env, cwd) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--import", RSS_PROBE, join(repo, "bin", "headshot.js"), ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const lines = [];
    let pending = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      const at = performance.now() - started;
      pending += chunk.toString("utf8");
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const part of parts) if (part.trim()) lines.push({ at, event: JSON.parse(part) });
    });
    child.stderr.on("data", (chunk) => (stderr += chunk.toString("utf8")));
    child.on("close", (code) => {
      const rss = Number(stderr.match(/HEADSHOT_BENCH_MAXRSS_KB=(\d+)/)?.[1] ?? NaN);
      resolve({ code, wallMs: performance.now() - started, lines, rssMb: rss / 1024, stderr });
    });
  });
}

async function measure(emuModule, catalog, saveIdentity, L) {
  const emu = await emuModule.startReplicateEmulator({ latencyMs: L, startingFraction: 0.1, imageLongSide: 64 });
  const dir = await mkdtemp(join(tmpdir(), "headshot-bench-batch-"));
  try {
    const home = join(dir, "home");
    const names = Array.from({ length: PEOPLE }, (_, i) => `p${String(i + 1).padStart(2, "0")}`);
    for (const name of names) {
      const hex = createHash("sha256").update(name).digest("hex");
      const now = Date.now();
      emu.state.models.set(`jane-doe/face-${name}`, {
        owner: "jane-doe", name: `face-${name}`, description: null, visibility: "private", is_official: false, hardware: "gpu-t4",
        versions: [{ id: hex, created_at: now, cog_version: "0.14.0", openapi_schema: catalog.trainedVersionSchema() }],
        run_count: 0, created_at: now,
      });
      await saveIdentity(home, {
        schemaVersion: 1, name, trigger: "ohwx", classWord: "person", backend: "replicate", baseModel: "flux1-dev", recipe: "flux1-dev",
        lora: { path: "/dev/null", sha256: "0".repeat(64), bytes: 1 },
        training: { steps: 1000, rank: 16, lr: 0.0004, resolutions: [1024] },
        dataset: { dir: "/dev/null", hash: "0".repeat(64), images: 12, sourceDir: "/dev/null" },
        selfies: { verdict: "ok", usable: 12, total: 12 },
        createdAt: new Date().toISOString(),
        replicate: { version: `jane-doe/face-${name}:${hex}` },
      });
    }
    const file = [
      "out: ./headshots",
      `concurrency: ${C}`,
      "defaults:",
      `  presets: [{preset: corporate, count: ${PER_PRESET}}, {preset: linkedin, count: ${PER_PRESET}}]`,
      "people:",
      ...names.map((n) => `  - name: ${n}\n    identity: ${n}`),
      "",
    ].join("\n");
    await writeFile(join(dir, "team.yaml"), file);
    const env = { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
    const run = await runCli(["--json", "batch", "team.yaml"], env, dir);
    if (process.env.BATCH_BENCH_TRACE) await writeFile(process.env.BATCH_BENCH_TRACE, run.lines.map((l) => JSON.stringify(l)).join("\n"));
    const total = PEOPLE * 2 * PER_PRESET;
    const ideal = Math.ceil(total / C) * L;
    const first = run.lines[0]?.at ?? NaN;
    const last = run.lines.at(-1)?.at ?? NaN;
    const batchMs = last - first;
    const summary = run.lines.at(-1)?.event ?? {};
    const creates = emu.requests.filter((r) => r.createdId).length;
    let images = 0;
    for (const n of names) for (const p of ["corporate", "linkedin"]) images += (await readdir(join(dir, "headshots", n, p))).filter((f) => f.endsWith(".png") && f !== "contact-sheet.png").length;
    // A re-run does nothing: its time is the fixed cost of checking 20 finished presets.
    const again = await runCli(["--json", "batch", "team.yaml"], env, dir);
    const createsAfter = emu.requests.filter((r) => r.createdId).length;
    const ok = run.code === 0 && summary.ok === true && images === total && creates === total && again.code === 0 && createsAfter === total;
    return { ok, ratio: batchMs / ideal, batchMs, ideal, waves: Math.ceil(total / C), wallMs: run.wallMs, rssMb: run.rssMb, againMs: again.wallMs, creates, createsAfter, images, total, code: run.code, againCode: again.code, stderr: run.stderr };
  } finally {
    await emu.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export default async function batchBench() {
  // The emulator is TypeScript: transpiled (types stripped) by gen-batch.bench.mjs's loader.
  const { loadEmulator } = await import("./gen-batch.bench.mjs");
  const emuModule = await loadEmulator();
  const catalog = emuModule;
  const { saveIdentity } = await import(pathToFileURL(join(repo, "dist", "identity", "registry.js")).href);

  const slow = await measure(emuModule, catalog, saveIdentity, 1500);
  const fast = await measure(emuModule, catalog, saveIdentity, 300);
  const ok = slow.ok && fast.ok;
  const perWave = (m) => Math.round((m.batchMs - m.ideal) / m.waves);
  return {
    name: "10-person batch on the Replicate emulator",
    target: `batch wall/ideal <= 1.25 (${PEOPLE} people x 2 presets x ${PER_PRESET}, C=${C}, L=1.5 s); peak RSS < 250 MB`,
    pass: ok && slow.ratio <= 1.25 && Math.max(slow.rssMb, fast.rssMb) < 250,
    metrics: {
      "batch wall/ideal (L=1.5 s)": Number(slow.ratio.toFixed(3)),
      "batch wall s (L=1.5 s)": Number((slow.batchMs / 1000).toFixed(2)),
      "ideal s (L=1.5 s)": slow.ideal / 1000,
      "batch wall/ideal (L=0.3 s)": Number(fast.ratio.toFixed(3)),
      "overhead ms per wave": `${perWave(slow)} / ${perWave(fast)}`,
      "process wall s (L=1.5 s)": Number((slow.wallMs / 1000).toFixed(2)),
      "peak RSS MB": Math.round(Math.max(slow.rssMb, fast.rssMb)),
      "idempotent re-run s": Number((slow.againMs / 1000).toFixed(2)),
      "creates (first run / after re-run)": `${slow.creates}/${slow.createsAfter}`,
    },
    notes:
      (ok ? "" : `a run failed: exit ${slow.code}/${slow.againCode} ${fast.code}/${fast.againCode}, images ${slow.images}/${slow.total}, creates ${slow.creates}/${slow.createsAfter}. ${slow.stderr.slice(-300)} `) +
      "Predictions of all people share the batch's C slots: a preset run waits for as many slots as it has images left (at most C) and gives them back as its images finish, " +
      "so 4-image presets run two at a time here. The gap to ideal is a fixed cost per wave, not per image: a preset run holds its slots until its images are downloaded, " +
      "re-encoded with their metadata and fsynced (about 0.3 s on this 2-core machine, where the emulator renders every PNG too), plus one schema check and one manifest per preset run; " +
      "at real FLUX latencies (about 3 s) that is under 10%. The re-run creates nothing (every manifest is complete).",
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.stdout.write(`${JSON.stringify(await batchBench(), null, 2)}\n`);
}
