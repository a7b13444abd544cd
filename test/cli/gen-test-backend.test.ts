/**
 * `gen --backend test` end to end in-process: the real engine, manifest, writer (sharp) and
 * resume, with placeholder images. No network.
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readXmpFields } from "../../src/generation/xmp.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
beforeEach(async () => {
  ws = await tempWorkspace("headshot-gen-test-");
});
afterEach(async () => {
  await ws.cleanup();
});

const base = (out: string, extra: string[] = []) => ["gen", "--preset", "corporate", "--count", "4", "--seed", "7", "--backend", "test", "--out", out, "--concurrency", "2", ...extra];

describe("gen --backend test", () => {
  it("writes labelled placeholders, sidecars and a consistent manifest; a re-run skips them", async () => {
    const out = join(ws.dir, "out");
    const first = await runCli(["--json", ...base(out, ["--format", "webp"])], { cwd: ws.dir, env: ws.env });
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const lines = first.json();
    const summary = lines.at(-1) as Record<string, unknown>;
    expect(summary).toMatchObject({ type: "summary", ok: true, placeholder: true, total: 4, done: 4, made: 4, skipped: 0 });
    expect(lines.filter((l) => l.type === "image.done")).toHaveLength(4);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    expect(manifest.batch).toMatchObject({ backend: "test", placeholder: true, seedBase: 7, count: 4 });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const entries = Object.values(manifest.images) as Array<Record<string, any>>;
    expect(entries.map((e) => e.status)).toEqual(["done", "done", "done", "done"]);
    const files = (await readdir(out)).sort();
    const images = files.filter((f) => f.endsWith(".webp"));
    expect(images).toHaveLength(4);
    expect(files.filter((f) => f.startsWith(".headshot-tmp-"))).toEqual([]);
    for (const entry of entries) {
      expect(entry.file).toMatch(new RegExp(`^corporate-.+-${String(entry.index).padStart(3, "0")}-${entry.seed}\\.webp$`));
      expect(entry.placeholder).toBe(true);
      const bytes = await readFile(join(out, entry.file));
      const { createHash } = await import("node:crypto");
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(entry.sha256);
      const meta = await sharp(bytes).metadata();
      expect(meta.format).toBe("webp");
      expect(meta.exif).toBeUndefined();
      const xmp = readXmpFields(meta.xmp?.toString("utf8") ?? "");
      expect(xmp.DigitalSourceType).toBe("http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia");
      expect(xmp.placeholder).toBe("True");
      expect(xmp.seed).toBe(String(entry.seed));
      expect(xmp.description).toContain("PLACEHOLDER");
      const sidecar = JSON.parse(await readFile(join(out, entry.sidecar), "utf8"));
      expect(sidecar).toMatchObject({ file: entry.file, sha256: entry.sha256, placeholder: true, seed: entry.seed });
    }

    // Re-run: nothing is made again.
    const second = await runCli(["--json", ...base(out, ["--format", "webp"])], { cwd: ws.dir, env: ws.env });
    expect(second.code, second.stdout).toBe(0);
    expect(second.json().at(-1)).toMatchObject({ done: 4, made: 0, skipped: 4 });

    // A deleted image is made again (and only that one); same seed, same name.
    const victim = entries[1]!;
    await rm(join(out, victim.file));
    const third = await runCli(["--json", ...base(out, ["--format", "webp"])], { cwd: ws.dir, env: ws.env });
    expect(third.code).toBe(0);
    expect(third.json().at(-1)).toMatchObject({ done: 4, made: 1, skipped: 3 });
    expect((await readdir(out)).filter((f) => f.endsWith(".webp")).sort()).toEqual(images);
  });

  it("reuses the recorded seeds when re-run without --seed, and refuses a different batch in the same folder", async () => {
    const out = join(ws.dir, "out2");
    const args = ["gen", "--preset", "corporate", "--count", "2", "--backend", "test", "--out", out];
    const first = await runCli(["--json", ...args], { cwd: ws.dir, env: ws.env });
    expect(first.code).toBe(0);
    const seedBase = (first.json().at(-1) as { seedBase: number }).seedBase;
    const again = await runCli(["--json", ...args], { cwd: ws.dir, env: ws.env });
    expect(again.json().at(-1)).toMatchObject({ seedBase, seedSource: "manifest", made: 0 });
    const other = await runCli([...args, "--seed", String((seedBase + 5) % 1000)], { cwd: ws.dir, env: ws.env });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/belongs to a different batch: its seed base/);
    expect(other.stderr).toMatch(/--out with a new folder/);
  });

  it("removes leftover temp files and redoes an image whose file was corrupted", async () => {
    const out = join(ws.dir, "out3");
    const args = ["gen", "--preset", "corporate", "--count", "2", "--seed", "3", "--backend", "test", "--out", out, "--format", "jpg"];
    expect((await runCli(args, { cwd: ws.dir, env: ws.env })).code).toBe(0);
    await writeFile(join(out, ".headshot-tmp-corporate-x.jpg.abcd"), "half");
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8"));
    const entry = Object.values(manifest.images)[0] as { file: string };
    await writeFile(join(out, entry.file), "garbage");
    const again = await runCli(["--json", ...args], { cwd: ws.dir, env: ws.env });
    expect(again.code).toBe(0);
    expect(again.json().at(-1)).toMatchObject({ made: 1, skipped: 1 });
    expect((await readdir(out)).some((f) => f.startsWith(".headshot-tmp-"))).toBe(false);
    const meta = await sharp(join(out, entry.file)).metadata();
    expect(meta.format).toBe("jpeg");
  });

  it("prints a human summary that says the images are placeholders", async () => {
    const out = join(ws.dir, "out4");
    const result = await runCli(["gen", "--preset", "corporate", "--count", "1", "--seed", "1", "--backend", "test", "--out", out], { cwd: ws.dir, env: ws.env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/1 of 1 image in /);
    expect(result.stdout).toMatch(/TEST PLACEHOLDERS/);
    expect(result.stderr).toMatch(/PLACEHOLDER images/);
  });
});
