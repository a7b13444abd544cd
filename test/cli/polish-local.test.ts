/**
 * `headshot polish --backend local` with the real headshot_generate.py under the Python stand-ins
 * (test/support/python-standins): one model load for the whole run, FluxInpaintPipeline made from the
 * loaded pipeline (no second load), each face's region, mask, strength and seed reaching it.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJsonLines } from "../support/fake-local-gen/files.js";
import { runCli } from "../support/run-cli.js";
import { localPolishWorkspace } from "../support/polish/local.js";
import { compareOutsideInside, POLISHED_DIR } from "../support/polish/workspace.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let dir: string;
let env: Record<string, string | undefined>;
let record: string;
beforeAll(async () => {
  ({ dir, env } = await localPolishWorkspace("headshot-polish-local-"));
  record = join(dir, "calls.jsonl");
  env = { ...env, STANDIN_RECORD: record };
}, 180_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("headshot polish --backend local", () => {
  it("loads the model once, inpaints every face through from_pipe, and blends only inside the mask", async () => {
    const r = await runCli(["--json", "polish", "out", "--identity", "jane", "--backend", "local", "--seed", "4"], { cwd: dir, env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json().at(-1)).toMatchObject({ type: "summary", ok: true, failed: 0, skipped: 1, costUsd: 0, placeholder: false });
    const calls = await readJsonLines<Json>(record);
    expect(calls.filter((c) => c.call === "from_pretrained")).toHaveLength(1);
    expect(calls.filter((c) => c.call === "from_pipe")).toEqual([expect.objectContaining({ pipeline: "FluxInpaintPipeline", source: "FluxPipeline" })]);
    const runs = calls.filter((c) => c.call === "__call__");
    expect(runs).toHaveLength(2);
    const manifest = JSON.parse(await readFile(join(dir, "out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    for (const file of ["jane-01.jpg", "jane-02.jpg"]) {
      const entry = manifest.images[file] as Json;
      const face = entry.faces[0] as Json;
      const run = runs.find((c) => c.generator_seed === face.seed);
      expect(run, `the pipeline call for ${file}`).toMatchObject({
        pipeline: "FluxInpaintPipeline",
        width: 1024,
        height: 1024,
        num_inference_steps: 15, // int(45 x 0.35): gen's default steps, only the last ones run
        guidance_scale: 2.5,
        adapters: { identity: 1 },
        extra: { strength: 0.35, image_size: [1024, 1024], mask_size: [1024, 1024] },
      });
      expect(run!.prompt).toBe(entry.prompt);
      const cmp = await compareOutsideInside(join(dir, "out", file), join(dir, "out", POLISHED_DIR, entry.after.file), entry.faces);
      expect(cmp.outsideDiffs).toBe(0);
      expect(cmp.insideDiffs / cmp.insidePixels).toBeGreaterThan(0.5);
    }
  }, 240_000);

  it("takes the face pass's steps and guidance from the preset's polish section and its LoRA scale from generation, and redoes faces asked differently", async () => {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(join(dir, "face.yaml"), "name: face\ngeneration:\n  steps: 40\n  loraScale: 0.8\npolish:\n  steps: 30\n  guidance: 3.2\n");
    const second = join(dir, "calls-preset.jsonl");
    const r = await runCli(["--json", "polish", "out", "--identity", "jane", "--backend", "local", "--seed", "4", "--preset", "./face.yaml"], { cwd: dir, env: { ...env, STANDIN_RECORD: second } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const calls = await readJsonLines<Json>(second);
    expect(calls.filter((c) => c.call === "from_pretrained")).toHaveLength(1);
    const runs = calls.filter((c) => c.call === "__call__");
    // The sampler changed since the first test's run: both faces are asked again, with the preset's values.
    expect(runs).toHaveLength(2);
    for (const run of runs) expect(run).toMatchObject({ pipeline: "FluxInpaintPipeline", num_inference_steps: 10, guidance_scale: 3.2, adapters: { identity: 0.8 } });
    const manifest = JSON.parse(await readFile(join(dir, "out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    expect(manifest.images["jane-01.jpg"].sampler).toEqual({ steps: 30, guidance: 3.2, loraScale: 0.8 });
    expect(manifest.images["jane-01.jpg"].faces[0].inputs).toMatchObject({ steps: 30, guidance: 3.2, lora_scale: 0.8, strength: 0.35 });
  }, 240_000);

  it("gen --polish --backend local: one Python process and one model load serve the batch and the face pass", async () => {
    const { default: sharp } = await import("sharp");
    const { generatedLike } = await import("../unit/scoring/build-outputs.js");
    // The stand-in's text-to-image answers with a real portrait of the identity, so polish finds a face.
    const portrait = join(dir, "portrait.png");
    await sharp(await generatedLike("collins", "full")).png().toFile(portrait);
    const third = join(dir, "calls-gen.jsonl");
    const r = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "jane", "--backend", "local", "--count", "2", "--seed", "12", "--out", "gen-polished", "--polish"], {
      cwd: dir,
      env: { ...env, STANDIN_RECORD: third, STANDIN_PORTRAIT: portrait },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const calls = await readJsonLines<Json>(third);
    expect(calls.filter((c) => c.call === "from_pretrained")).toHaveLength(1);
    expect(calls.filter((c) => c.call === "load_lora_weights")).toHaveLength(1);
    expect(calls.filter((c) => c.call === "from_pipe")).toEqual([expect.objectContaining({ pipeline: "FluxInpaintPipeline", source: "FluxPipeline" })]);
    const runs = calls.filter((c) => c.call === "__call__").map((c) => c.pipeline as string);
    expect(runs).toEqual(["FluxPipeline", "FluxPipeline", "FluxInpaintPipeline", "FluxInpaintPipeline"]);
    const summary = r.json().at(-1) as Json;
    expect(summary).toMatchObject({ type: "summary", polish: { backend: "local", failed: 0 } });
    const manifest = JSON.parse(await readFile(join(dir, "gen-polished", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    const entries = Object.values(manifest.images) as Json[];
    expect(entries).toHaveLength(2);
    for (const entry of entries) expect(entry).toMatchObject({ status: "done", sampler: { steps: 45, guidance: 2.5, loraScale: 1 } });
  }, 300_000);
});
