/**
 * The hook `gen` calls after its engine: with the real manifest store, real files and the real
 * face model, scores land in manifest.json and the sidecars, and set-aside images move with their
 * manifest entries pointing at rejected/. Without anything to compare with, the gallery is still
 * written, unscored.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manifestSchema, ManifestStore, type Manifest } from "../../../src/generation/manifest.js";
import { afterBatch } from "../../../src/curation/after-batch.js";
import { collinsSelfies, generatedLike, noFace, writeAll, writeGenLikeFolder } from "../scoring/build-outputs.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-after-batch-"));
  await writeAll(join(dir, "selfies"), await collinsSelfies());
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `writeIntervalMs`: how far apart the store spaces its writes (a gen batch's store: 100 ms). */
async function batch(out: string, writeIntervalMs = 0): Promise<ManifestStore> {
  const files = await writeGenLikeFolder(out, {
    "corporate-001.jpg": await generatedLike("collins", "teal-background"),
    "corporate-002.jpg": await generatedLike("hopper", "full"),
    "corporate-003.jpg": await noFace(),
  });
  const now = "2026-11-27T06:00:00.000Z";
  const images: Manifest["images"] = {};
  files.forEach((file, i) => {
    const key = file.replace(".png", "");
    images[key] = {
      key, index: i + 1, variation: "v", axes: {}, status: "done", prompt: `prompt ${key}`, seed: 1001 + i, model: "flux-dev-lora", inputs: {},
      attempts: [{ n: 1, startedAt: now, endedAt: now, outcome: "succeeded" }], file, sidecar: file.replace(".png", ".json"), sha256: "x", timing: {}, costUsd: 0.025,
    };
  });
  const data = manifestSchema.parse({
    schemaVersion: 1, tool: "headshot 0.1.0", createdAt: now, updatedAt: now,
    batch: { preset: { name: "corporate", hash: "h" }, identity: { name: "jane", trigger: "ohwx", classWord: "woman" }, backend: "replicate", model: "flux-dev-lora", modelRef: "m", seedBase: 1001, count: 3, format: "png", placeholder: false },
    images,
  });
  const store = new ManifestStore(out, data, undefined, writeIntervalMs);
  // The first write is never delayed: leave it to afterBatch when writes are spaced.
  if (!writeIntervalMs) await store.commit();
  return store;
}

describe("afterBatch (gen's post-engine hook)", () => {
  it("records scores in manifest.json and sidecars, and points moved entries at rejected/", async () => {
    const out = join(dir, "scored");
    const store = await batch(out);
    const result = await afterBatch(Object.values(store.data.images), store, { outDir: out, home: join(dir, "home"), selfies: join(dir, "selfies"), keep: 1, crops: true, title: "Headshots" });
    expect(result).toMatchObject({ scored: true, kept: 1, setAside: 2 });
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as { images: Record<string, Record<string, unknown>> };
    expect(manifest.images["corporate-001"]).toMatchObject({ file: "corporate-001.png", kept: true, score: { verdict: "match", faces: 1 }, crops: expect.arrayContaining([expect.objectContaining({ name: "linkedin-400" })]) });
    expect(manifest.images["corporate-002"]).toMatchObject({ file: "rejected/corporate-002.png", sidecar: "rejected/corporate-002.json", kept: false, rejectedReason: "below_min_similarity", score: { verdict: "not_you" } });
    expect(manifest.images["corporate-003"]).toMatchObject({ file: "rejected/corporate-003.png", rejectedReason: "no_face" });
    const sidecar = JSON.parse(await readFile(join(out, "rejected", "corporate-002.json"), "utf8")) as Record<string, unknown>;
    expect(sidecar).toMatchObject({ prompt: expect.stringContaining("corporate headshot"), score: { verdict: "not_you" }, rejected: { reason: "below_min_similarity" } });
    expect(await readFile(result.galleryPath, "utf8")).toContain("looks like you");
  });

  it("records every image's score in one manifest write, however far apart the store spaces its writes", async () => {
    // Awaiting one update after another cost one spaced write per image (10 s per 100 images in
    // gen): with writes ten minutes apart, this would time out.
    const out = join(dir, "spaced");
    const store = await batch(out, 600_000);
    await afterBatch(Object.values(store.data.images), store, { outDir: out, home: join(dir, "home"), selfies: join(dir, "selfies"), keep: 1, title: "Headshots" });
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as { images: Record<string, Record<string, unknown>> };
    expect(Object.values(manifest.images).map((e) => e.kept)).toEqual([true, false, false]);
  }, 120_000);

  it("without an identity or reference photos, writes the gallery unscored and moves nothing", async () => {
    const out = join(dir, "unscored");
    const store = await batch(out);
    const result = await afterBatch(Object.values(store.data.images), store, { outDir: out, home: join(dir, "home"), keep: 1, title: "Headshots" });
    expect(result).toMatchObject({ scored: false, kept: 3, setAside: 0 });
    const html = await readFile(result.galleryPath, "utf8");
    expect(html.match(/class="card kept"/g)).toHaveLength(3);
    expect(html).toContain("Prompt: prompt corporate-001\nSeed: 1001");
  });
});
