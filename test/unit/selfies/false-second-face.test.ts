/**
 * Regression: on a noisy phone-sized selfie BlazeFace proposed a second "face" in the helmet ring
 * (detector score 0.34, mesh score 0.95), and one person's selfie was rejected as a group shot.
 */
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { closeFaceModel, detectFaces } from "../../../src/selfies/faces.js";

afterAll(() => closeFaceModel());

async function noisySelfie(width: number, height: number): Promise<Buffer> {
  const noise = await sharp({ create: { width, height, channels: 3, background: "#808080", noise: { type: "gaussian", mean: 128, sigma: 6 } } }).raw().toBuffer();
  return sharp(join("test", "fixtures", "faces", "astronaut.png"))
    .removeAlpha()
    .extract({ left: 37, top: 13, width: 376, height: 282 })
    .flop()
    .resize(width, height)
    .modulate({ brightness: 0.97 })
    .composite([{ input: noise, raw: { width, height, channels: 3 }, blend: "overlay" }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

describe("second faces", () => {
  it("a low-confidence detector hit next to a clear face is not counted as a second person", async () => {
    const faces = await detectFaces(await noisySelfie(4032, 3024));
    expect(faces).toHaveLength(1);
    expect(faces[0]?.box[2]).toBeGreaterThan(300);
  });
});
