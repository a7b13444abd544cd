/**
 * `headshot polish` against the Replicate emulator: inpainting on the identity's trained version
 * (inputs checked against the recorded flux-fine-tuner schema), Real-ESRGAN upscale, the manifest
 * pointing at the predictions the server made, and a re-run that sends nothing.
 */
import { readFileSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readXmpFields } from "../../src/generation/xmp.js";
import { REAL_ESRGAN_VERSION } from "../../src/polish/upscale.js";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli } from "../support/run-cli.js";
import { compareOutsideInside, POLISHED_DIR } from "../support/polish/workspace.js";
import { answerWith, modelAnswers, replicatePolishWorkspace } from "../support/polish/replicate.js";
import { generatedLike } from "../unit/scoring/build-outputs.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let dir: string;
let env: Record<string, string>;
let emu: ReplicateEmulator;
let version: string;
beforeAll(async () => {
  emu = await startReplicateEmulator({ latencyMs: 200, preferWaitUnitMs: 20, outputImage: answerWith({ ...(await modelAnswers()), portrait: await generatedLike("collins", "full") }) });
  ({ dir, version, env } = await replicatePolishWorkspace("headshot-polish-rep-", emu, "jane-face"));
}, 180_000);
afterAll(async () => {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

const creates = (): Json[] => emu.requests.filter((r) => r.method === "POST" && r.path === "/v1/predictions" && r.createdId) as Json[];

describe("headshot polish --backend replicate", () => {
  it("--dry-run prices one face pass per face and one upscale per image, and sends nothing", async () => {
    const r = await runCli(["polish", "out", "--identity", "jane", "--upscale", "2", "--dry-run"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`2 face passes on ${version} + 2 upscales (nightmareai/real-esrgan`);
    expect(r.stdout).toContain("about $0.068");
    expect(creates()).toEqual([]);
    expect(emu.count("POST", /^\/files$/)).toBe(0);
  }, 120_000);

  it("inpaints each face on the trained version, upscales with Real-ESRGAN, records every request", async () => {
    const r = await runCli(["--json", "polish", "out", "--identity", "jane", "--upscale", "2", "--seed", "9"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().at(-1)).toMatchObject({ type: "summary", ok: true, placeholder: false, skipped: 1, failed: 0, costUsd: 0.068 });
    const manifest = JSON.parse(await readFile(join(dir, "out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    const posts = creates();
    const versionOf = (p: Json): string => String(p.body.version).split(":").pop()!;
    const facePosts = posts.filter((p) => versionOf(p) === version.split(":")[1]);
    const upscalePosts = posts.filter((p) => versionOf(p) === REAL_ESRGAN_VERSION);
    expect(facePosts).toHaveLength(2);
    expect(upscalePosts).toHaveLength(2);
    for (const file of ["jane-01.jpg", "jane-02.jpg"]) {
      const entry = manifest.images[file] as Json;
      const face = entry.faces[0] as Json;
      const post = facePosts.find((p) => p.createdId === face.remoteId);
      expect(post, `the manifest's prediction for ${file}`).toBeDefined();
      expect(post!.body.input).toEqual(face.inputs);
      expect(face.inputs).toMatchObject({ prompt_strength: 0.35, seed: face.seed, output_format: "png", image: expect.stringContaining("/files/") as unknown, mask: expect.stringContaining("/files/") as unknown });
      expect(face.inputs.prompt).toMatch(/^close-up photo of the face of ohwx woman/);
      expect(face.costUsd).toBe(0.032);
      expect(entry.scores.before.relative).toEqual(expect.any(Number));
      expect(entry.scores.after.faces).toEqual(expect.any(Number));
      expect(entry.reason).toEqual(expect.any(String));
      expect(entry.upscale).toMatchObject({ kind: "replicate", scale: 2, status: "done", costUsd: 0.002, inputs: { scale: 2, face_enhance: false } });
      expect(upscalePosts.map((p) => p.createdId)).toContain(entry.upscale.remoteId);
      expect(entry.final).toMatchObject({ width: 2048, height: 2048 });
      const cmp = await compareOutsideInside(join(dir, "out", file), join(dir, "out", POLISHED_DIR, entry.after.file), entry.faces);
      expect(cmp.outsideDiffs).toBe(0);
      expect(cmp.insideDiffs / cmp.insidePixels).toBeGreaterThan(0.5);
      const meta = await sharp(join(dir, "out", POLISHED_DIR, entry.after.file)).metadata();
      expect(meta.exif).toBeUndefined();
      expect(readXmpFields(meta.xmp?.toString("utf8") ?? "")).toMatchObject({ placeholder: "False", DigitalSourceType: expect.stringMatching(/trainedAlgorithmicMedia$/) as unknown });
    }
  }, 240_000);

  it("a re-run uploads nothing and creates nothing", async () => {
    const before = { creates: creates().length, uploads: emu.count("POST", /^\/files$/) };
    const r = await runCli(["--json", "polish", "out", "--identity", "jane", "--upscale", "2", "--seed", "9"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(creates().length).toBe(before.creates);
    expect(emu.count("POST", /^\/files$/)).toBe(before.uploads);
  }, 120_000);

  it("gen --polish, and polish: in a preset: the batch's kept images get the face pass; --no-polish turns it off", async () => {
    const { mkdir, writeFile } = await import("node:fs/promises");
    await mkdir(join(dir, "presets"), { recursive: true });
    await writeFile(join(dir, "presets", "polished.yaml"), "extends: corporate\npolish:\n  enabled: true\n  strength: 0.3\n");
    const before = creates().length;
    const off = await runCli(["--json", "gen", "--preset", "./presets/polished.yaml", "--identity", "jane", "--count", "1", "--seed", "40", "--out", "gen-off", "--no-polish"], { cwd: dir, env });
    expect(off.code, off.stderr).toBe(0);
    expect(off.json().at(-1)?.polish).toBeUndefined();
    expect(creates().length).toBe(before + 1);
    const on = await runCli(["--json", "gen", "--preset", "./presets/polished.yaml", "--identity", "jane", "--count", "2", "--seed", "50", "--out", "gen-on"], { cwd: dir, env });
    expect(on.code, on.stderr).toBe(0);
    const summary = on.json().at(-1) as Json;
    expect(summary).toMatchObject({ type: "summary", ok: true, polish: { failed: 0, skipped: 0 } });
    expect(summary.polish.polished + summary.polish.keptOriginal).toBe(2);
    const manifest = JSON.parse(await readFile(join(dir, "gen-on", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    for (const entry of Object.values(manifest.images) as Json[]) expect(entry.faces[0].inputs.prompt_strength).toBe(0.3);
  }, 300_000);

  it("a face pass that fails on Replicate: the image is reported failed (exit 5) with the error in the manifest; a re-run retries it", async () => {
    const { cp } = await import("node:fs/promises");
    await cp(join(dir, "out", "jane-01.jpg"), join(dir, "fail-out", "jane-01.jpg"), { recursive: true });
    emu.faults.failPrediction = (input) => (input.mask ? "The model could not process this input" : null);
    try {
      const r = await runCli(["--json", "polish", "fail-out", "--identity", "jane", "--seed", "77"], { cwd: dir, env });
      expect(r.code, r.stderr).toBe(5);
      expect(r.json().at(-1)).toMatchObject({ type: "summary", ok: false, error: { code: "E_POLISH_INCOMPLETE" } });
      const manifest = JSON.parse(await readFile(join(dir, "fail-out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
      expect(manifest.images["jane-01.jpg"]).toMatchObject({ status: "failed", faces: [{ status: "failed", error: expect.stringContaining("could not process") as unknown }] });
      expect(manifest.images["jane-01.jpg"].faces[0].failedIds).toHaveLength(1);
    } finally {
      emu.faults.failPrediction = null;
    }
    const again = await runCli(["--json", "polish", "fail-out", "--identity", "jane", "--seed", "77"], { cwd: dir, env });
    expect(again.code, again.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, "fail-out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    expect(manifest.images["jane-01.jpg"]).toMatchObject({ status: "done", faces: [{ status: "done" }] });
  }, 240_000);

  it("a locally trained identity with a hosted LoRA: image-to-image on flux-dev-lora (no mask input there), the blend masks", async () => {
    const { cp } = await import("node:fs/promises");
    const { saveIdentity } = await import("../../src/identity/registry.js");
    const jane = JSON.parse(await readFile(join(env.HEADSHOT_HOME!, "identities", "jane", "identity.json"), "utf8")) as Json;
    await saveIdentity(env.HEADSHOT_HOME!, { ...jane, name: "kim", backend: "local", replicate: undefined, loraUrl: "huggingface.co/kim/kim-lora" } as never);
    await cp(join(dir, "out", "jane-01.jpg"), join(dir, "kim-out", "kim-01.jpg"), { recursive: true });
    const r = await runCli(["--json", "polish", "kim-out", "--identity", "kim", "--seed", "3"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(dir, "kim-out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    const face = manifest.images["kim-01.jpg"].faces[0] as Json;
    expect(face.modelRef).toBe("black-forest-labs/flux-dev-lora");
    expect(face.inputs).toMatchObject({ lora_weights: "huggingface.co/kim/kim-lora", prompt_strength: 0.35, seed: face.seed });
    expect(face.inputs.mask).toBeUndefined();
    const post = (emu.requests as Json[]).find((p) => p.method === "POST" && p.createdId === face.remoteId);
    expect(post?.path).toBe("/v1/models/black-forest-labs/flux-dev-lora/predictions");
    const cmp = await compareOutsideInside(join(dir, "kim-out", "kim-01.jpg"), join(dir, "kim-out", POLISHED_DIR, manifest.images["kim-01.jpg"].after.file), manifest.images["kim-01.jpg"].faces);
    expect(cmp.outsideDiffs).toBe(0);
  }, 240_000);

  it("Ctrl-C while a face prediction is still queued cancels it (not billed) and the manifest will not adopt it", async () => {
    const { cp } = await import("node:fs/promises");
    await cp(join(dir, "out", "jane-01.jpg"), join(dir, "int-out", "jane-01.jpg"), { recursive: true });
    emu.setPredictionDuration(60_000, 0.99); // stays `starting` (queued) for the whole test
    const known = new Set(emu.state.jobOrder.map((j) => j.id));
    const controller = new AbortController();
    // Ctrl-C once the prediction's id is on disk (the manifest says "created").
    const manifestPath = join(dir, "int-out", POLISHED_DIR, "polish-manifest.json");
    const watcher = setInterval(() => {
      try {
        const m = JSON.parse(readFileSync(manifestPath, "utf8")) as Json;
        if (m.images["jane-01.jpg"]?.faces?.[0]?.status === "created") controller.abort();
      } catch {
        // not written yet
      }
    }, 50);
    try {
      const r = await runCli(["--json", "polish", "int-out", "--identity", "jane", "--seed", "88"], { cwd: dir, env, signal: controller.signal });
      expect(r.code, r.stderr).toBe(130);
    } finally {
      clearInterval(watcher);
      emu.setPredictionDuration(200, 0.3);
    }
    const job = emu.state.jobOrder.find((j) => !known.has(j.id) && j.kind === "prediction")!;
    expect(job.canceledAt).toBeDefined();
    const manifest = JSON.parse(await readFile(join(dir, "int-out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;
    const face = manifest.images["jane-01.jpg"].faces[0] as Json;
    expect(face.remoteId).toBeUndefined();
    expect(face.failedIds).toEqual([job.id]);
  }, 240_000);
});
