/**
 * The free rehearsal, image part: draws one preview from the person's prepared selfie crop, framed
 * as the preset asks (face size for the camera distance, the image's aspect ratio, the backdrop
 * colour, black and white when the preset is), labelled on the image. Pure decisions live in
 * framing.ts.
 */
import { escapeXml } from "../xmp.js";
import type { PlannedImage } from "../plan.js";
import { backdropFor, FACE_SHARE, isMonochrome, placeCrop, PLANT_LABELS, plantFor, selfieIndexFor, shotOf, SMALL_FACE_SHARE, type Plant, type Placement } from "./framing.js";

/** One image to draw the person (or the stranger) from: its pixels' size and face box. */
export interface RehearsalCrop {
  path: string;
  width: number;
  height: number;
  faceBox: [number, number, number, number];
}

export interface RehearsalSource {
  /** Whose selfies ("identity grace", "selfies ./me"): written to the manifest. */
  label: string;
  crops: RehearsalCrop[];
  /** A public-domain portrait of someone else (assets/rehearsal/), for planted identity drift. */
  stranger: RehearsalCrop & { who: string };
}

export interface RehearsalInfo {
  plant: Plant;
  /** The crop drawn, as a file name. */
  from: string;
  note: string;
  source: string;
}

/** A feathered rounded rectangle the size of the crop, so its edges fade into the backdrop. */
function featherMask(place: Placement): Buffer {
  const feather = Math.max(2, Math.round(Math.min(place.width, place.height) * 0.06));
  const inset = feather * 2;
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${place.width}" height="${place.height}">` +
      `<defs><filter id="f" x="-10%" y="-10%" width="120%" height="120%"><feGaussianBlur stdDeviation="${feather}"/></filter></defs>` +
      `<rect x="${inset}" y="${inset}" width="${Math.max(1, place.width - 2 * inset)}" height="${Math.max(1, place.height - 2 * inset)}" rx="${Math.round(place.width * 0.18)}" fill="#fff" filter="url(#f)"/></svg>`,
  );
}

function labelSvg(image: PlannedImage, plant: Plant, width: number, height: number): string {
  const scale = Math.min(width, height) / 1024;
  const band = Math.round(120 * scale);
  const label = PLANT_LABELS[plant];
  // Bold sans-serif runs about 0.6 em per character: keep the title within 80% of the width, so a
  // thumbnail zoomed in on the face (src/curation/thumb-frame.ts) still shows all of it.
  const big = Math.min(Math.round(40 * scale), Math.floor((width * 0.8) / (label.title.length * 0.6)));
  const small = Math.round(22 * scale);
  const text = (y: number, content: string, size: number, weight = "normal") =>
    `<text x="${Math.round(width / 2)}" y="${y}" font-family="sans-serif" font-size="${size}" font-weight="${weight}" fill="#ffffff" text-anchor="middle">${escapeXml(content)}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">`,
    `<rect x="0" y="0" width="${width}" height="${band}" fill="#000000" fill-opacity="0.7"/>`,
    text(Math.round(band * 0.45), label.title, big, "bold"),
    text(Math.round(band * 0.82), "headshot --backend test · free rehearsal", small),
    `<rect x="0" y="${height - band}" width="${width}" height="${band}" fill="#000000" fill-opacity="0.7"/>`,
    text(height - Math.round(band * 0.58), label.note, small, "bold"),
    text(height - Math.round(band * 0.22), `#${image.index} · ${image.variation.label} · seed ${image.seed}`, small),
    `</svg>`,
  ].join("");
}

/** The visible part of a placed image: sharp composites only what lies inside the canvas. */
function visible(place: Placement, width: number, height: number): { extract: { left: number; top: number; width: number; height: number }; left: number; top: number } | undefined {
  const left = Math.max(0, place.left);
  const top = Math.max(0, place.top);
  const right = Math.min(width, place.left + place.width);
  const bottom = Math.min(height, place.top + place.height);
  if (right <= left || bottom <= top) return undefined;
  return { extract: { left: left - place.left, top: top - place.top, width: right - left, height: bottom - top }, left, top };
}

/** Draws the preview for one planned image; returns PNG bytes and what was drawn. */
export async function composePreview(image: PlannedImage, width: number, height: number, source: RehearsalSource): Promise<{ bytes: Buffer; info: RehearsalInfo }> {
  const { default: sharp } = await import("sharp");
  const plant = source.crops.length ? plantFor(image) : "stranger";
  const crop = plant === "stranger" ? source.stranger : source.crops[selfieIndexFor(image, source.crops.length)]!;
  const share = plant === "small" ? SMALL_FACE_SHARE : (FACE_SHARE[shotOf(image)] ?? 0.31);
  const place = placeCrop(crop, width, height, share);
  let person = sharp(crop.path).removeAlpha().resize(place.width, place.height, { fit: "fill" });
  if (plant === "soft") {
    // Sigma 6 on the face resampled to 256 px, the scale the sharpness is measured at
    // (src/selfies/analyze.ts): README's calibration reads 3.9 there, far under the blurry line
    // whatever the crop's own detail; sigma 4 left some crops merely "soft".
    person = person.blur(Math.max(3, (place.face[2] / 256) * 6));
  }
  const masked = await sharp(await person.toBuffer())
    .joinChannel(await sharp(featherMask(place)).extractChannel(3).toBuffer())
    .png()
    .toBuffer();
  const part = visible(place, width, height);
  const layers: Array<{ input: Buffer; left?: number; top?: number }> = [];
  if (part) layers.push({ input: await sharp(masked).extract(part.extract).png().toBuffer(), left: part.left, top: part.top });
  layers.push({ input: Buffer.from(labelSvg(image, plant, width, height)), left: 0, top: 0 });
  let canvas = sharp({ create: { width, height, channels: 3, background: backdropFor(image) } }).composite(layers);
  if (isMonochrome(image)) canvas = sharp(await canvas.png().toBuffer()).greyscale();
  const bytes = await canvas.png({ compressionLevel: 6 }).toBuffer();
  const from = crop.path.split(/[\\/]/).pop() ?? crop.path;
  const info: RehearsalInfo = { plant, from: plant === "stranger" ? `${from} (${source.stranger.who})` : from, note: PLANT_LABELS[plant].note, source: source.label };
  return { bytes, info };
}
