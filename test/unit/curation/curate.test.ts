/**
 * After a batch (real face model, real sharp, real files, the generation writer's own outputs):
 * keep the best, move the rest to rejected/ with their scores, cut crops that keep the face
 * inside LinkedIn's circle and carry the AI-generated label, and write the gallery and contact sheet.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import exifr from "exifr";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectFaces } from "../../../src/selfies/faces.js";
import { loadReference } from "../../../src/scoring/reference.js";
import { curate, type CurateResult } from "../../../src/curation/curate.js";
import { CIRCLE_SAFE, CROP_SPECS, faceInCircle } from "../../../src/curation/crop-geometry.js";
import { collinsSelfies, generatedLike, noFace, twoPeople, writeAll, writeGenLikeFolder } from "../scoring/build-outputs.js";

let dir: string;
let out: string;
let result: CurateResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-curate-"));
  out = join(dir, "out");
  await writeAll(join(dir, "selfies"), await collinsSelfies());
  const files = await writeGenLikeFolder(out, {
    "corporate-001.jpg": await generatedLike("collins", "full"),
    "corporate-002.jpg": await generatedLike("collins", "small-on-canvas"),
    "corporate-003.jpg": await generatedLike("hopper", "full"),
    "corporate-004.jpg": await generatedLike("collins", "teal-background"),
    "corporate-005.jpg": await noFace(),
    "corporate-006.jpg": await generatedLike("collins", "relit-down"),
    "corporate-007.jpg": await twoPeople(),
  });
  const home = join(dir, "home");
  const reference = await loadReference({ home, selfies: join(dir, "selfies") });
  result = await curate(
    files.map((file) => ({ file, key: file.replace(".png", "") })),
    { outDir: out, reference, home, keep: 3, moveRejected: true, crops: true, sidecars: "all", title: "Headshots: jane / corporate" },
  );
}, 180_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("curate (gen --keep-best 3 --crops)", () => {
  it("keeps the three best likenesses and moves everything else to rejected/ with the reason", async () => {
    const kept = result.images.filter((i) => i.kept);
    expect(kept).toHaveLength(3);
    expect(kept.every((k) => k.score.verdict === "match")).toBe(true);
    expect(result.selection.kept.map((s) => s.file)).toEqual(expect.arrayContaining(kept.map((k) => k.file)));
    const reasons = Object.fromEntries(result.images.filter((i) => !i.kept).map((i) => [i.file, i.reason]));
    expect(reasons).toMatchObject({
      "rejected/corporate-003.png": "below_min_similarity",
      "rejected/corporate-005.png": "no_face",
      "rejected/corporate-007.png": "multiple_faces",
    });
    expect(Object.values(reasons).filter((r) => r === "not_in_best")).toHaveLength(1);
    const top = (await readdir(out)).filter((f) => f.endsWith(".png") && f.startsWith("corporate-"));
    expect(top.sort()).toEqual(kept.map((k) => k.file).sort());
    const rejectedDir = (await readdir(join(out, "rejected"))).sort();
    expect(rejectedDir.filter((f) => f.endsWith(".png"))).toHaveLength(4);
    expect(rejectedDir.filter((f) => f.endsWith(".json"))).toHaveLength(5); // 4 sidecars + scores.json
  });

  it("writes the score into every sidecar, and the reason into the moved ones", async () => {
    for (const image of result.images) {
      const sidecar = JSON.parse(await readFile(join(out, image.sidecar), "utf8")) as Record<string, unknown>;
      expect(sidecar.score).toMatchObject({ verdict: image.score.verdict, faces: image.score.faces, reference: expect.stringContaining("selfies") });
      expect(sidecar.prompt).toContain("corporate headshot");
      if (image.kept) expect(sidecar).toMatchObject({ kept: true, crops: image.crops.map((c) => c.file) });
      else expect(sidecar.rejected).toMatchObject({ reason: image.reason });
    }
    const list = JSON.parse(await readFile(join(out, "rejected", "scores.json"), "utf8")) as { images: Array<{ file: string; reason: string }> };
    const moved = result.images.filter((i) => !i.kept).map((i) => i.file.replace("rejected/", ""));
    expect(list.images.map((i) => i.file)).toEqual(moved.sort());
    expect(list.images.find((i) => i.file === "corporate-005.png")).toMatchObject({ reason: "no_face", verdict: "no_face", faces: 0 });
  });

  it("cuts every named crop of each kept image at its exact size, labelled AI-generated", async () => {
    for (const image of result.images.filter((i) => i.kept)) {
      expect(image.crops.map((c) => c.name)).toEqual(CROP_SPECS.map((s) => s.name));
      for (const crop of image.crops) {
        const spec = CROP_SPECS.find((s) => s.name === crop.name)!;
        const meta = await sharp(join(out, crop.file)).metadata();
        expect([meta.width, meta.height, meta.format]).toEqual([spec.width, spec.height, "jpeg"]);
        const xmp = (await exifr.parse(join(out, crop.file), { xmp: true })) as Record<string, unknown>;
        expect(JSON.stringify(xmp)).toContain("trainedAlgorithmicMedia");
      }
    }
  });

  it("keeps the whole re-detected face inside the circle-safe area of the square crops", async () => {
    const kept = result.images.filter((i) => i.kept);
    for (const image of kept) {
      for (const crop of image.crops.filter((c) => c.circleSafe !== undefined)) {
        expect(crop.circleSafe).toBe(true);
        const faces = await detectFaces(join(out, crop.file));
        expect(faces, crop.file).toHaveLength(1);
        const region = { left: 0, top: 0, width: crop.width, height: crop.height };
        expect(faceInCircle(faces[0]!.box, region, CIRCLE_SAFE), `${crop.file} ${JSON.stringify(faces[0]!.box)}`).toBe(true);
        // Head centred: the face's centre within 10% of the crop's middle, horizontally.
        const [x, , w] = faces[0]!.box;
        expect(Math.abs(x + w / 2 - crop.width / 2)).toBeLessThan(crop.width * 0.1);
      }
    }
  });

  it("a later `score --gallery` over the same folder keeps the reasons and moves nothing", async () => {
    const files = result.images.map((i) => i.file);
    const again = await curate(
      files.map((file) => (file.startsWith("rejected/") ? { file, rejected: { reason: "set aside by an earlier run" } } : { file })),
      { outDir: out, reference: await loadReference({ home: join(dir, "home"), selfies: join(dir, "selfies") }), home: join(dir, "home"), moveRejected: false, crops: false, sidecars: "existing", title: "again" },
    );
    expect(again.images.map((i) => i.file)).toEqual(files);
    for (const image of result.images.filter((i) => !i.kept)) {
      const sidecar = JSON.parse(await readFile(join(out, image.sidecar), "utf8")) as Record<string, unknown>;
      expect(sidecar).toMatchObject({ kept: false, rejected: { reason: image.reason } });
    }
  });

  it("writes index.html and the contact sheet next to the manifest", async () => {
    const html = await readFile(result.galleryPath, "utf8");
    expect(result.galleryPath).toBe(join(out, "index.html"));
    const order = [...html.matchAll(/<a class="image" href="([^"]+)"/g)].map((m) => m[1]);
    expect(order.slice(0, 3)).toEqual(result.selection.kept.map((k) => k.file));
    expect(order).toHaveLength(7);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const sheet = await sharp(result.contactSheetPath).metadata();
    expect(sheet.format).toBe("png");
    expect(sheet.width).toBeGreaterThan(6 * 256);
    expect((await stat(join(out, "thumbs"))).isDirectory()).toBe(true);
  });
});
