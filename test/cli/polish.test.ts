/**
 * `headshot polish` in-process with the test backend: real sharp, real face models, real files.
 * Every kept image with a face gets a face-pass file whose pixels outside the blend mask are the
 * original's byte for byte and inside differ; the manifest records request, seed, strength and
 * both likeness scores; a re-run does nothing twice; --dry-run lists the calls; --upscale works.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readXmpFields } from "../../src/generation/xmp.js";
import { runCli } from "../support/run-cli.js";
import { compareOutsideInside, polishWorkspace, POLISHED_DIR } from "../support/polish/workspace.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  ({ dir, env } = await polishWorkspace("headshot-polish-cli-"));
}, 180_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

const manifestOf = async (): Promise<Json> => JSON.parse(await readFile(join(dir, "out", POLISHED_DIR, "polish-manifest.json"), "utf8")) as Json;

describe("headshot polish --backend test", () => {
  it("--dry-run finds the faces and lists each call with its seed and a zero cost, writing nothing", async () => {
    const r = await runCli(["polish", "out", "--identity", "jane", "--backend", "test", "--dry-run"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/jane-01\.jpg face 0: box \d+x\d+ at \d+,\d+; region \d+px/);
    expect(r.stdout).toMatch(/jane-02\.jpg face 0:/);
    expect(r.stdout).toContain("empty.jpg: no face found");
    expect(r.stdout).toContain('"prompt_strength":0.35');
    expect(r.stdout).toMatch(/2 face passes on test: about \$0\.000/);
    await expect(stat(join(dir, "out", POLISHED_DIR, "polish-manifest.json"))).rejects.toThrow();
  }, 120_000);

  it("polishes every image with a face: outside the mask byte-identical, inside changed, both scores recorded", async () => {
    const r = await runCli(["--json", "polish", "out", "--identity", "jane", "--backend", "test", "--seed", "5"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.json();
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: true, skipped: 1, failed: 0, placeholder: true, costUsd: 0 });
    expect(lines.filter((l) => l.type === "polish.image.done")).toHaveLength(2);
    const manifest = await manifestOf();
    expect(manifest.images["empty.jpg"]).toMatchObject({ status: "skipped", faces: [] });
    // The before/after page: both versions of each image, the decision, nothing remote.
    const html = await readFile(join(dir, "out", POLISHED_DIR, "index.html"), "utf8");
    for (const stem of ["jane-01", "jane-02"]) {
      expect(html).toContain(`src="../${stem}.jpg"`);
      expect(html).toContain(`src="${stem}.after.png"`);
    }
    expect(html).toContain("Test backend: a labelled rehearsal");
    expect(html).not.toMatch(/(src|href)="https?:/);
    for (const file of ["jane-01.jpg", "jane-02.jpg"]) {
      const entry = manifest.images[file] as Json;
      expect(entry).toMatchObject({ status: "done", strength: 0.35, after: { file: file.replace(".jpg", ".after.png") } });
      expect(entry.faces).toHaveLength(1);
      const face = entry.faces[0] as Json;
      expect(face).toMatchObject({ status: "done", inputs: { prompt_strength: 0.35, seed: face.seed } });
      expect(entry.prompt).toContain("ohwx woman");
      expect(typeof entry.scores.before.relative).toBe("number");
      expect(typeof entry.scores.after.relative).toBe("number");
      expect(["polished", "original"]).toContain(entry.decision);
      expect(entry.reason).toMatch(/likeness/);
      const cmp = await compareOutsideInside(join(dir, "out", file), join(dir, "out", POLISHED_DIR, entry.after.file), entry.faces);
      expect(cmp.outsideDiffs).toBe(0);
      expect(cmp.insideDiffs / cmp.insidePixels).toBeGreaterThan(0.5);
      // The final file: AI label in XMP (placeholder: test backend), no EXIF.
      const meta = await sharp(join(dir, "out", POLISHED_DIR, entry.final.file)).metadata();
      expect(meta.exif).toBeUndefined();
      expect(readXmpFields(meta.xmp?.toString("utf8") ?? "")).toMatchObject({ placeholder: "True", DigitalSourceType: expect.stringMatching(/algorithmicMedia$/) as unknown });
    }
  }, 240_000);

  it("a re-run skips finished images and changes nothing", async () => {
    const before = await manifestOf();
    const r = await runCli(["--json", "polish", "out", "--identity", "jane", "--backend", "test", "--seed", "5"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().filter((l) => l.type === "polish.image.started")).toEqual([]);
    const after = await manifestOf();
    expect(after.images).toEqual(before.images);
  }, 120_000);

  it("--upscale 2 afterwards: the offline resize doubles the final file, the face pass is reused, not redone", async () => {
    const before = await manifestOf();
    const r = await runCli(["--json", "polish", "out", "--identity", "jane", "--backend", "test", "--seed", "5", "--upscale", "2"], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().filter((l) => l.type === "polish.image.started")).toEqual([]);
    const after = await manifestOf();
    for (const file of ["jane-01.jpg", "jane-02.jpg"]) {
      const entry = after.images[file] as Json;
      expect(entry.faces).toEqual(before.images[file].faces);
      expect(entry.after).toEqual(before.images[file].after);
      expect(entry.upscale).toMatchObject({ kind: "resize", scale: 2, status: "done", costUsd: 0 });
      const original = await sharp(join(dir, "out", file)).metadata();
      expect(entry.final).toMatchObject({ width: original.width! * 2, height: original.height! * 2 });
      const afterMeta = await sharp(join(dir, "out", POLISHED_DIR, entry.after.file)).metadata();
      expect(afterMeta.width).toBe(original.width);
    }
  }, 240_000);
});
