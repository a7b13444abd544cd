// Rebuilds the example selfie sets in this folder from the two public-domain portraits in
// test/fixtures/faces (see PROVENANCE.md next to this file): `node examples/selfies/make-selfies.mjs`.
// Each "selfie" is one documented transformation of the portrait (crop, mirror, light, small
// rotation, a wider shot on a plain canvas), so `headshot check` sees several usable photos of one
// person. They are stand-ins for trying the tool, not good training data: real selfies differ in
// day, place, outfit and expression.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sharp from "sharp";

const here = dirname(fileURLToPath(import.meta.url));
const faces = join(here, "..", "..", "test", "fixtures", "faces");
const SIZE = 1024; // short side: the checker's full-resolution bar, so no low_resolution warning
const QUALITY = 70;

/** One variant: crop region, mirror, rotation (degrees), brightness factor, wide-canvas scale. */
const VARIANTS = {
  eileen: {
    source: "astronaut.png",
    canvas: "#7d8792",
    list: [
      ["full", {}],
      ["mirror", { region: [60, 0, 452, 452], flip: true }],
      ["brighter", { region: [0, 10, 400, 480], brightness: 1.15 }],
      ["tilted", { region: [16, 0, 480, 480], rotate: 7 }],
      ["close", { region: [110, 10, 280, 300] }],
      ["wide", { wide: 1.5 }],
      ["left", { region: [20, 0, 470, 500] }],
      ["right", { region: [90, 0, 422, 470], brightness: 0.9 }],
    ],
  },
  grace: {
    source: "grace_hopper.jpg",
    canvas: "#4b4f58",
    list: [
      ["full", {}],
      ["mirror", { region: [40, 0, 472, 560], flip: true }],
      ["brighter", { region: [0, 20, 480, 540], brightness: 1.15 }],
      ["tilted", { region: [20, 0, 470, 520], rotate: -6 }],
      ["close", { region: [110, 40, 300, 340] }],
      ["wide", { wide: 1.6 }],
      ["left", { region: [0, 0, 430, 500] }],
      ["right", { region: [80, 30, 432, 520], brightness: 0.9 }],
    ],
  },
};

async function variant(source, canvas, v) {
  if (v.wide) {
    const meta = await sharp(source).metadata();
    const w = Math.round(meta.width * 1.0);
    const portrait = await sharp(source).removeAlpha().resize(w).toBuffer();
    const side = Math.round(w * v.wide);
    const wideImage = await sharp({ create: { width: side, height: side, channels: 3, background: canvas } })
      .composite([{ input: portrait, left: Math.round((side - w) / 2), top: side - (meta.height ?? w) }])
      .png()
      .toBuffer();
    return sharp(wideImage).resize(SIZE, SIZE);
  }
  let img = sharp(source).removeAlpha();
  if (v.region) {
    const [left, top, width, height] = v.region;
    img = sharp(await img.extract({ left, top, width, height }).toBuffer());
  }
  if (v.flip) img = img.flop();
  if (v.rotate) img = sharp(await img.rotate(v.rotate, { background: canvas }).toBuffer());
  img = img.resize(SIZE, SIZE, { fit: "outside" });
  if (v.brightness) img = img.modulate({ brightness: v.brightness });
  return img;
}

for (const [person, spec] of Object.entries(VARIANTS)) {
  const dir = join(here, person);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [name, v] of spec.list) {
    const img = await variant(join(faces, spec.source), spec.canvas, v);
    await writeFile(join(dir, `${name}.jpg`), await img.jpeg({ quality: QUALITY, mozjpeg: true }).toBuffer());
  }
}
