// Issues 9 and 18: scoring 100 generated 1 MP images takes no longer than 4x decoding them with
// sharp in the same run (issue 18's target; issue 9 asked for 2x with a lighter model). Measures the built dist/ (`npm run bench` builds first). The 100 images are built
// here from the two public-domain portraits (test/fixtures/faces, see its PROVENANCE.md): 50 of
// each person, framed, scaled, re-lit, rotated and recoloured differently, 1024x1024 PNG (the
// corporate preset's output format). The reference is 6 "selfies" of one of them.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import pLimit from "p-limit";

const ROOT = process.cwd();
const FACES = join(ROOT, "test", "fixtures", "faces");
const PEOPLE = { collins: join(FACES, "astronaut.png"), hopper: join(FACES, "grace_hopper.jpg") };
const COUNT = 100;
const SIZE = 1024;

async function generatedLike(source, i) {
  const scale = 0.55 + ((i * 37) % 46) / 100; // 0.55..1.00 of the canvas
  const side = Math.round(SIZE * scale);
  const angle = ((i * 7) % 13) - 6; // -6..6 degrees
  const hue = (i * 29) % 360;
  let portrait = sharp(source).removeAlpha().resize(side, side, { fit: "cover", position: "top" }).modulate({ brightness: 0.8 + ((i * 13) % 41) / 100 });
  if (angle) portrait = sharp(await portrait.toBuffer()).rotate(angle, { background: `hsl(${hue}, 30%, 55%)` }).resize(side, side, { fit: "cover" });
  return sharp({ create: { width: SIZE, height: SIZE, channels: 3, background: `hsl(${hue}, 35%, 50%)` } })
    .composite([{ input: await portrait.png().toBuffer(), left: Math.round((SIZE - side) / 2), top: Math.round((SIZE - side) * 0.3) }])
    .png({ compressionLevel: 6 })
    .toBuffer();
}

async function selfie(region, size, extra = (s) => s) {
  return extra(sharp(PEOPLE.collins).removeAlpha().extract(region).resize(size)).jpeg({ quality: 92 }).toBuffer();
}

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

export default async function bench() {
  const dir = await mkdtemp(join(tmpdir(), "headshot-bench-scoring-"));
  try {
    const selfies = join(dir, "selfies");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(selfies, { recursive: true });
    const shots = [
      await selfie({ left: 0, top: 0, width: 512, height: 512 }, 1100),
      await selfie({ left: 60, top: 0, width: 452, height: 452 }, 1150, (s) => s.flop()),
      await selfie({ left: 0, top: 10, width: 400, height: 480 }, 1100, (s) => s.modulate({ brightness: 1.15 })),
      await selfie({ left: 110, top: 10, width: 280, height: 300 }, 1050),
      await selfie({ left: 30, top: 40, width: 440, height: 460 }, 1080, (s) => s.modulate({ brightness: 0.9 })),
      await selfie({ left: 16, top: 0, width: 480, height: 480 }, 1100, (s) => s.modulate({ saturation: 0.8 })),
    ];
    await Promise.all(shots.map((b, i) => writeFile(join(selfies, `s${i}.jpg`), b)));
    const files = [];
    for (let i = 0; i < COUNT; i++) {
      const person = i % 2 ? "hopper" : "collins";
      const file = join(dir, `${person}-${String(i).padStart(3, "0")}.png`);
      await writeFile(file, await generatedLike(PEOPLE[person], i));
      files.push(file);
    }

    const { loadReference } = await import(join(ROOT, "dist", "scoring", "reference.js"));
    const { scoreImages } = await import(join(ROOT, "dist", "scoring", "score-images.js"));
    const faces = await import(join(ROOT, "dist", "selfies", "faces.js"));
    const loadStart = process.hrtime.bigint();
    const workers = faces.warmFaceWorkers ? await faces.warmFaceWorkers(2) : (await faces.loadFaceModel(), 1);
    const loadSeconds = seconds(loadStart);
    // The reference (6 selfies) is built before timing; no cache (no home), so every image is analysed.
    const reference = await loadReference({ home: join(dir, "home"), selfies });

    // Plain decode to raw pixels, as parallel as sharp gets here (libvips threads + 4 in flight).
    const decode = async () => {
      const limit = pLimit(4);
      const start = process.hrtime.bigint();
      await Promise.all(files.map((f) => limit(() => sharp(f).raw().toBuffer())));
      return seconds(start);
    };
    await decode(); // warm the file cache so both measurements read from memory
    const decodeSeconds = Math.min(await decode(), await decode());

    const start = process.hrtime.bigint();
    const scores = await scoreImages(files, reference, {});
    const scoreSeconds = seconds(start);
    const decodeAgain = await decode();

    const collins = scores.filter((s) => s.file.includes("collins-"));
    const hopper = scores.filter((s) => s.file.includes("hopper-"));
    // Hopper is a look-alike for the dlib descriptor (issue 18): "doubtful" (look at it) is an
    // honest answer for her; only "match" would be wrong.
    const correct = collins.filter((s) => s.verdict === "match").length + hopper.filter((s) => s.verdict !== "match").length;
    const ratio = scoreSeconds / decodeSeconds;
    await faces.closeFaceModel?.();
    return {
      name: "scoring: 100 generated 1 MP images vs sharp decode",
      target: "<= 4x the sharp decode time",
      pass: ratio <= 4,
      metrics: {
        "decode s": decodeSeconds.toFixed(2),
        "score s": scoreSeconds.toFixed(2),
        ratio: ratio.toFixed(1),
        "ms per image": ((scoreSeconds * 1000) / COUNT).toFixed(0),
        "model load s": loadSeconds.toFixed(1),
        workers,
        "right verdicts": `${correct}/${COUNT}`,
      },
      notes:
        `Decode: sharp to raw RGB, 4 in flight, best of 2 (${decodeSeconds.toFixed(2)} s; ${decodeAgain.toFixed(2)} s again after scoring). ` +
        `Score: src/scoring/score-images.ts scoreImages with no cache: decode with shrink-on-load, Human BlazeFace + FaceMesh, face-api's 68 landmarks (3 passes) and dlib ResNet descriptor on WASM (SIMD, one thread each) in ${workers} worker thread(s) on ${availableParallelism()} cores, blur and exposure on the face. ` +
        `Model load (${loadSeconds.toFixed(1)} s) is excluded. The face models, not decoding, dominate: six CNN passes per face on a CPU WASM backend (about 0.1 s of CPU per 1 MP image in total, measured with one worker), against a few ms of libvips decode per image.`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
