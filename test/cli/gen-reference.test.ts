/**
 * Reference mode (`gen --ref ./selfies`, no training) against the Replicate emulator, with real
 * face analysis (headshot check) on test selfies: which photos are sent, how (EXIF-free uploads
 * through the files API), and under which field name for each FLUX.2 model (https://replicate.com/black-forest-labs/flux-2-dev/api).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { astronaut, withGps, writeAll } from "../support/selfies/build.js";
import { predictionCreates } from "../unit/generation/fixtures.js";

let emu: ReplicateEmulator;
let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let selfies: string;

beforeAll(async () => {
  emu = await startReplicateEmulator({ latencyMs: 100 });
  ws = await tempWorkspace("headshot-gen-ref-");
  selfies = join(ws.dir, "selfies");
  await mkdir(selfies);
  await writeAll(selfies, {
    "IMG_0001.jpg": await astronaut(),
    "IMG_0002.jpg": await astronaut({ flip: true, brightness: 1.08 }),
    "IMG_0003.jpg": await withGps(await astronaut({ region: { left: 60, top: 20, width: 400, height: 400 } })),
    "IMG_0004.jpg": await astronaut({ rotate: 8, brightness: 0.92 }),
    "IMG_0005.jpg": await astronaut({ flip: true, region: { left: 30, top: 0, width: 460, height: 460 } }),
    "IMG_0006.jpg": await astronaut({ blur: 8 }),
  });
}, 60_000);
afterAll(async () => {
  await emu.close();
  await ws.cleanup();
});

// Parsed JSON from the CLI and the emulator, read field by field in assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

describe("gen --ref (FLUX.2 reference images)", () => {
  it("picks at most 4 references for flux-2-dev, uploads them without EXIF, and sends them as input_images", async () => {
    const env = { ...ws.env, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
    const out = join(ws.dir, "out-dev");
    const result = await runCli(["--json", "gen", "--preset", "corporate", "--ref", selfies, "--count", "2", "--seed", "5", "--out", out], { cwd: ws.dir, env });
    expect(result.code, result.stdout).toBe(0);
    const lines = result.json() as Json[];
    const refs = lines.find((l) => l.type === "references") as Json;
    expect(refs.picked.length).toBeGreaterThanOrEqual(1);
    expect(refs.picked.length).toBeLessThanOrEqual(4);
    expect(refs.picked.map((p: Json) => p.file)).not.toContain("IMG_0006.jpg");
    const summary = lines.at(-1) as Json;
    expect(summary).toMatchObject({ ok: true, done: 2, model: "flux-2-dev", modelRef: "black-forest-labs/flux-2-dev" });
    expect(summary.references).toHaveLength(refs.picked.length);

    const uploads = emu.requests.filter((r) => r.method === "POST" && r.path === "/v1/files" && r.createdId);
    expect(uploads).toHaveLength(refs.picked.length);
    for (const file of emu.state.files.values()) {
      const meta = await sharp(file.bytes).metadata();
      expect(meta.format).toBe("jpeg");
      expect(meta.exif).toBeUndefined();
      expect(Math.max(meta.width ?? 0, meta.height ?? 0)).toBeLessThanOrEqual(1536);
    }
    const creates = predictionCreates(emu);
    expect(creates).toHaveLength(2);
    for (const c of creates) {
      expect(c.path).toBe("/v1/models/black-forest-labs/flux-2-dev/predictions");
      expect(c.input.input_images).toHaveLength(refs.picked.length);
      expect((c.input.input_images as string[]).every((u) => u.startsWith(`${emu.baseUrl}/files/`))).toBe(true);
      expect(c.input).not.toHaveProperty("lora_weights");
      // FLUX.2 takes the structured JSON prompt; the person is "the one in the references".
      expect(JSON.parse(String(c.input.prompt)).subjects[0].description).toMatch(/reference images/);
    }

    // Growing the same batch reuses the uploads recorded in its manifest (still valid): no new upload.
    emu.clearLog();
    const more = await runCli(["--json", "gen", "--preset", "corporate", "--ref", selfies, "--count", "3", "--seed", "5", "--out", out], { cwd: ws.dir, env });
    expect(more.code, more.stdout).toBe(0);
    expect((more.json() as Json[]).find((l) => l.type === "references")).toMatchObject({ reused: true });
    expect(emu.count("POST", /^\/files$/)).toBe(0);
    expect(predictionCreates(emu)).toHaveLength(1);
    expect(predictionCreates(emu)[0]?.input.input_images).toEqual(creates[0]?.input.input_images);

    // klein takes `images` (not input_images) and at most 5.
    emu.clearLog();
    const klein = await runCli(["--json", "gen", "--preset", "corporate", "--ref", selfies, "--model", "flux-2-klein-4b", "--count", "1", "--seed", "5", "--out", join(ws.dir, "out-klein")], { cwd: ws.dir, env });
    expect(klein.code, klein.stdout).toBe(0);
    const [k] = predictionCreates(emu);
    expect(k?.path).toBe("/v1/models/black-forest-labs/flux-2-klein-4b/predictions");
    expect(k?.input.images).toEqual(expect.any(Array));
    expect(k?.input).not.toHaveProperty("input_images");
  });

  it("refuses --ref together with --identity, and a model that takes no references", async () => {
    const env = { ...ws.env, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
    const both = await runCli(["gen", "--preset", "corporate", "--ref", selfies, "--identity", "jane"], { cwd: ws.dir, env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/either --identity .* or --ref/);
    const lora = await runCli(["gen", "--preset", "corporate", "--ref", selfies, "--model", "flux-dev-lora"], { cwd: ws.dir, env });
    expect(lora.code).toBe(2);
    expect(lora.stderr).toMatch(/cannot take reference images/);
  });
});
