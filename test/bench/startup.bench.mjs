// `headshot --help` must start in under 150 ms (issue: CLI foundation). Measures the built binary,
// median of 15 runs after 3 warm-ups, and checks that sharp, the face models and the Replicate
// client stay off that path.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const BIN = join(process.cwd(), "bin", "headshot.js");

function timeOnce(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`headshot ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

export default async function bench() {
  for (let i = 0; i < 3; i++) timeOnce(["--help"]);
  const help = median(Array.from({ length: 15 }, () => timeOnce(["--help"])));
  const bare = median(Array.from({ length: 15 }, () => {
    const start = process.hrtime.bigint();
    spawnSync(process.execPath, ["-e", "0"]);
    return Number(process.hrtime.bigint() - start) / 1e6;
  }));
  // Which packages ran code during --help: a fine-grained CPU profile lists every module that
  // executed; sharp, zod, yaml, the face models and the Replicate client must not be among them.
  const profDir = mkdtempSync(join(tmpdir(), "headshot-prof-"));
  spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-interval", "50", "--cpu-prof-dir", profDir, BIN, "--help"], { encoding: "utf8" });
  const profile = JSON.parse(readFileSync(join(profDir, readdirSync(profDir)[0]), "utf8"));
  rmSync(profDir, { recursive: true, force: true });
  const packages = [...new Set(profile.nodes.map((n) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(n.callFrame.url)?.[1]).filter(Boolean))];
  const heavyList = packages.filter((p) => /sharp|@vladmandic|@tensorflow|replicate|zod|^yaml$|ora|chalk|execa/.test(p));
  const heavy = JSON.stringify(heavyList);
  return {
    name: "startup: headshot --help",
    target: "< 150 ms",
    pass: help < 150 && heavyList.length === 0,
    metrics: { "median ms": help.toFixed(1), "bare node ms": bare.toFixed(1), "packages run": packages.join(" "), "heavy packages": heavyList.length },
    notes: `Median of 15 runs of the built binary (bare \`node -e 0\` is ${bare.toFixed(0)} ms on this machine). Heavy modules on the --help path: ${heavy}.`,
  };
}
