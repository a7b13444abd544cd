/**
 * A batch preset with `polish: true` on the local backend, end to end: the real
 * headshot_generate.py under the Python stand-ins (test/support/python-standins) makes the images,
 * real face models find the faces, and the face pass runs in the same Python process. Then the
 * same command again: the finished preset goes straight to its outcome, with no Python started
 * and its manifest left as it is.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJsonLines } from "../support/fake-local-gen/files.js";
import { runCli } from "../support/run-cli.js";
import { writeText } from "../support/batch/workspace.js";
import { localPolishWorkspace } from "../support/polish/local.js";
import { POLISHED_DIR } from "../support/polish/workspace.js";
import { generatedLike } from "../unit/scoring/build-outputs.js";

// Parsed JSON lines, read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** Under the test timeout: a test that runs too long stops its own CLI work (issue 14). */
const TEST_TIMEOUT_MS = 300_000;

let dir: string;
let env: Record<string, string | undefined>;
beforeAll(async () => {
  ({ dir, env } = await localPolishWorkspace("headshot-batch-polish-local-"));
  // The stand-in's text-to-image answers with a real portrait of the identity, so polish finds a face.
  const portrait = join(dir, "portrait.png");
  await sharp(await generatedLike("collins", "full")).png().toFile(portrait);
  env = { ...env, STANDIN_PORTRAIT: portrait };
}, 180_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("batch `polish: true` on the local backend", () => {
  it("polishes every kept image in gen's Python process and records it; a re-run changes nothing and starts no Python", { timeout: TEST_TIMEOUT_MS }, async () => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TEST_TIMEOUT_MS - 30_000);
    try {
      await writeText(join(dir, "team.yaml"), "out: ./batch-out\nconcurrency: 1\npeople:\n  - name: jane\n    identity: jane\n    backend: local\n    presets:\n      - {preset: corporate, count: 2, polish: true}\n");
      const record = join(dir, "calls-batch.jsonl");
      const r = await runCli(["--json", "batch", "team.yaml"], { cwd: dir, env: { ...env, STANDIN_RECORD: record }, signal: abort.signal });
      expect(r.code, r.stdout.slice(-2000) + r.stderr).toBe(0);
      const preset = (r.json().at(-1) as Json).people[0].presets[0] as Json;
      const folder = join(dir, "batch-out", "jane", "corporate");
      expect(preset).toMatchObject({ status: "done", images: 2, expected: 2, polish: { failed: 0, manifest: join(folder, POLISHED_DIR, "polish-manifest.json") } });
      expect(preset.polish.polished + preset.polish.keptOriginal).toBe(2);
      expect(r.json().filter((l) => l.type === "polish.image.done" && l.person === "jane")).toHaveLength(2);

      // Gen and the face pass: one model load, the inpaint pipeline made from the loaded one.
      const calls = await readJsonLines<Json>(record);
      expect(calls.filter((c) => c.call === "from_pretrained")).toHaveLength(1);
      expect(calls.filter((c) => c.call === "__call__").map((c) => c.pipeline as string)).toEqual(["FluxPipeline", "FluxPipeline", "FluxInpaintPipeline", "FluxInpaintPipeline"]);

      // Every image of the run is recorded as polished, and its final file exists.
      const gen = JSON.parse(await readFile(join(folder, "manifest.json"), "utf8")) as Json;
      const files = (Object.values(gen.images) as Json[]).map((e) => e.file as string).sort();
      const polish = JSON.parse(await readFile(join(folder, POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
      expect(Object.keys(polish.images).sort()).toEqual(files);
      const finals = await readdir(join(folder, POLISHED_DIR));
      for (const file of files) {
        const entry = polish.images[file] as Json;
        expect(entry).toMatchObject({ status: "done", faces: [expect.objectContaining({ status: "done" })] });
        expect(finals).toContain(entry.final.file);
      }

      // The same command again: nothing to make or polish, so no Python process at all, and the
      // manifest is not even rewritten (the engine would add a `runs` line).
      const manifestBefore = await readFile(join(folder, "manifest.json"), "utf8");
      const again = join(dir, "calls-again.jsonl");
      const second = await runCli(["--json", "batch", "team.yaml"], { cwd: dir, env: { ...env, STANDIN_RECORD: again }, signal: abort.signal });
      expect(second.code, second.stdout.slice(-2000) + second.stderr).toBe(0);
      expect(second.json().filter((l) => l.type === "preset.skipped").map((l) => l.preset)).toEqual(["corporate"]);
      expect(await readJsonLines<Json>(again)).toEqual([]);
      expect(await readFile(join(folder, "manifest.json"), "utf8")).toBe(manifestBefore);
      expect((second.json().at(-1) as Json).people[0].presets[0]).toMatchObject({ status: "done", images: 2, expected: 2, polish: { failed: 0 } });
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  });
});
