/** The manifest store: coalesced atomic writes, validation, and repair against the files on disk. */
import { mkdtemp, readFile, rm, writeFile, mkdir, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManifestStore, readManifest, type Manifest, type ManifestEntry } from "../../../src/generation/manifest.js";
import { repairManifest } from "../../../src/generation/manifest-repair.js";
import { sha256File as sha256OfFile } from "../../../src/util/hash-file.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-manifest-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function entry(key: string, extra: Partial<ManifestEntry> = {}): ManifestEntry {
  return { key, index: 1, variation: "v", axes: {}, status: "planned", prompt: "p", seed: 1, model: "test", inputs: {}, attempts: [], timing: {}, costUsd: 0, ...extra };
}

function manifest(images: ManifestEntry[]): Manifest {
  return {
    schemaVersion: 1,
    tool: "headshot test",
    createdAt: "2026-01-01T00:00:00.000Z",
    updatedAt: "2026-01-01T00:00:00.000Z",
    batch: { preset: { name: "p", hash: "h" }, identity: null, backend: "test", model: "test", modelRef: "test", seedBase: 1, count: images.length, format: "png", placeholder: true },
    images: Object.fromEntries(images.map((e) => [e.key, e])),
  };
}

describe("ManifestStore", () => {
  it("has every awaited change on disk after many concurrent updates, and no temp file left", async () => {
    const store = new ManifestStore(dir, manifest(Array.from({ length: 50 }, (_, i) => entry(`k${i}`))), () => new Date(), 5);
    store.touch("k0", (e) => (e.seed = 99));
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.update(`k${i}`, (e) => (e.status = "done"))));
    const onDisk = await readManifest(dir);
    expect(Object.values(onDisk!.images).every((e) => e.status === "done")).toBe(true);
    expect(onDisk!.images.k0!.seed).toBe(99);
    expect((await readdir(dir)).filter((n) => n.startsWith(".headshot-tmp-"))).toEqual([]);
  });

  it("refuses a manifest it cannot read, with a hint", async () => {
    await writeFile(join(dir, "manifest.json"), "{ not json");
    await expect(readManifest(dir)).rejects.toMatchObject({ code: "E_MANIFEST_CORRUPT", hint: expect.stringMatching(/--out/) });
    await writeFile(join(dir, "manifest.json"), JSON.stringify({ schemaVersion: 1 }));
    await expect(readManifest(dir)).rejects.toMatchObject({ code: "E_MANIFEST_CORRUPT" });
  });
});

describe("repairManifest", () => {
  it("removes temp files, steps entries back to what their files prove, and drops stray raw outputs", async () => {
    await writeFile(join(dir, "good.png"), "good");
    await writeFile(join(dir, ".headshot-tmp-x.png.1234"), "half");
    await mkdir(join(dir, ".headshot-raw"));
    await writeFile(join(dir, ".headshot-raw", "b-a1.png"), "raw-b");
    await writeFile(join(dir, ".headshot-raw", "stray-a1.png"), "stray");
    const m = manifest([
      entry("a", { status: "done", file: "good.png", sha256: await sha256OfFile(join(dir, "good.png")) }),
      entry("b", { status: "done", file: "gone.png", sha256: "0", predictionId: "p", raw: { path: ".headshot-raw/b-a1.png", sha256: await sha256OfFile(join(dir, ".headshot-raw", "b-a1.png")), contentType: "image/png" } }),
      entry("c", { status: "done", file: "gone2.png", sha256: "0", predictionId: "p2" }),
      entry("d", { status: "downloaded", raw: { path: ".headshot-raw/missing.png", sha256: "0", contentType: "image/png" } }),
    ]);
    const repairs = await repairManifest(m, dir);
    expect(m.images.a!.status).toBe("done");
    expect(m.images.b!.status).toBe("downloaded");
    expect(m.images.c!.status).toBe("created");
    expect(m.images.d!.status).toBe("planned");
    expect(repairs.join("\n")).toMatch(/temp file/);
    const left = await readdir(dir);
    expect(left.filter((n) => n.startsWith(".headshot-tmp-"))).toEqual([]);
    expect(await readdir(join(dir, ".headshot-raw"))).toEqual(["b-a1.png"]);
    expect(await readFile(join(dir, "good.png"), "utf8")).toBe("good");
  });
});

describe("scores and rejected/ (gen --keep-best)", () => {
  it("keeps score, kept, rejectedReason and crops through a write and a read", async () => {
    const score = { faces: 1, relative: 0.93, verdict: "match", quality: { score: 0.9, issues: [] }, future: { x: 1 } };
    const store = new ManifestStore(dir, manifest([entry("a", { status: "done", file: "rejected/a.png", score, kept: false, rejectedReason: "not_in_best", crops: [{ name: "linkedin-400", file: "crops/a-linkedin-400.jpg", width: 400 }] })]));
    await store.commit();
    const read = await readManifest(dir);
    expect(read!.images.a).toMatchObject({ score, kept: false, rejectedReason: "not_in_best", crops: [{ name: "linkedin-400", file: "crops/a-linkedin-400.jpg", width: 400 }] });
  });

  it("a done image set aside in rejected/ (or fished out of it) is still done, never made again", async () => {
    await mkdir(join(dir, "rejected"));
    await writeFile(join(dir, "rejected", "a.png"), "a");
    await writeFile(join(dir, "rejected", "b.png"), "b");
    await writeFile(join(dir, "c.png"), "c");
    const hash = (name: string) => sha256OfFile(join(dir, name));
    const m = manifest([
      entry("a", { status: "done", file: "rejected/a.png", sha256: await hash("rejected/a.png"), kept: false }),
      // Killed between the move and the manifest write: the manifest still says b.png.
      entry("b", { status: "done", file: "b.png", sidecar: "b.json", sha256: await hash("rejected/b.png") }),
      // Moved back by hand.
      entry("c", { status: "done", file: "rejected/c.png", sha256: await hash("c.png"), kept: false }),
      // Same name, other bytes: not this image.
      entry("d", { status: "done", file: "a.png", sha256: "0".repeat(64), predictionId: "p" }),
    ]);
    const repairs = await repairManifest(m, dir);
    expect(m.images.a).toMatchObject({ status: "done", file: "rejected/a.png" });
    expect(m.images.b).toMatchObject({ status: "done", file: "rejected/b.png", sidecar: "rejected/b.json", kept: false });
    expect(m.images.c).toMatchObject({ status: "done", file: "c.png", sidecar: "c.json" });
    expect(m.images.c!.kept).toBeUndefined();
    expect(m.images.d!.status).toBe("created");
    expect(repairs.join("\n")).toMatch(/b\.png: found at rejected\/b\.png/);
  });
});
