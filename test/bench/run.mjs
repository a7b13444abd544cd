// Runs every benchmark in test/bench/*.bench.mjs and writes test/bench/RESULTS.md.
// Each module default-exports `async () => ({ name, target, pass, metrics, notes })`.
import { readdir, writeFile } from "node:fs/promises";
import { cpus, totalmem, platform, release } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = (await readdir(here)).filter((f) => f.endsWith(".bench.mjs")).sort();
const results = [];
for (const file of files) {
  if (only.length && !only.some((o) => file.includes(o))) continue;
  process.stderr.write(`bench: ${file} ...\n`);
  const mod = await import(pathToFileURL(join(here, file)).href);
  try {
    const result = await mod.default();
    results.push(result);
    process.stderr.write(`  ${result.name}: ${result.pass ? "PASS" : "MISS"} ${JSON.stringify(result.metrics)}\n`);
  } catch (error) {
    results.push({ name: file, target: "", pass: false, metrics: {}, notes: `crashed: ${error?.stack ?? error}` });
    process.stderr.write(`  ${file}: crashed: ${error?.stack ?? error}\n`);
  }
}
const cpu = cpus()[0]?.model ?? "unknown CPU";
const lines = [
  "# Benchmark results",
  "",
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}.`,
  `Machine: ${cpus().length} x ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${platform()} ${release()}, Node ${process.version}.`,
  "",
  "| benchmark | target | result | measured |",
  "| --- | --- | --- | --- |",
  ...results.map(
    (r) =>
      `| ${r.name} | ${r.target} | ${r.pass ? "met" : "not met"} | ${Object.entries(r.metrics)
        .map(([k, v]) => `${k}: ${v}`)
        .join("; ")} |`,
  ),
  "",
  ...results.filter((r) => r.notes).map((r) => `- **${r.name}**: ${r.notes}`),
  "",
];
if (!only.length) await writeFile(join(here, "RESULTS.md"), lines.join("\n"));
process.stdout.write(lines.join("\n"));
