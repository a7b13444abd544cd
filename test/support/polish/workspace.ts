/**
 * A polish workspace: an identity "jane" whose selfie summary comes from `check` on Eileen
 * Collins's portraits (test/fixtures/faces), and a folder of gen-like outputs of her (full frame,
 * small on a large canvas) plus one image without a face. Real sharp, real face models.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { expect } from "vitest";
import { POLISHED_DIR } from "../../../src/polish/run-polish.js";
import { maskAlpha, maskShape, type Box, type Region } from "../../../src/polish/geometry.js";
import { changedBounds } from "../../../src/polish/blend.js";
import { collinsSelfies, generatedLike, noFace, writeAll } from "../../unit/scoring/build-outputs.js";
import { registerCheckedIdentity } from "../identity/checked-identity.js";

export async function polishWorkspace(prefix: string, extra: Record<string, unknown> = {}): Promise<{ dir: string; home: string; env: Record<string, string> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const home = join(dir, "home");
  await writeAll(join(dir, "selfies"), await collinsSelfies());
  await writeAll(join(dir, "out"), {
    "jane-01.jpg": await generatedLike("collins", "full"),
    "jane-02.jpg": await generatedLike("collins", "small-on-canvas"),
    "empty.jpg": await noFace(),
  });
  await registerCheckedIdentity({ home, selfies: join(dir, "selfies"), lora: join(dir, "jane.safetensors"), dataset: join(dir, "dataset"), extra });
  return { dir, home, env: { HEADSHOT_HOME: home } };
}

async function rgb(path: string): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(path).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * Compares an original with its face-pass result: pixels outside every face's blend mask must be
 * byte-identical; counts differing pixels inside. Boxes and regions come from the manifest.
 */
export async function compareOutsideInside(original: string, after: string, faces: ReadonlyArray<{ box: Box; region: Region }>): Promise<{ outsideDiffs: number; insideDiffs: number; insidePixels: number }> {
  const a = await rgb(original);
  const b = await rgb(after);
  if (a.width !== b.width || a.height !== b.height) throw new Error("size changed");
  const inside = new Uint8Array(a.width * a.height);
  for (const face of faces) {
    const alpha = maskAlpha(maskShape(face.box, face.region), face.region.side);
    const side = face.region.side;
    for (let k = 0; k < alpha.length; k++) {
      if ((alpha[k] ?? 0) > 0) inside[(face.region.top + Math.floor(k / side)) * a.width + face.region.left + (k % side)] = 1;
    }
    expect(changedBounds(face.region, alpha)).toBeDefined();
  }
  let outsideDiffs = 0;
  let insideDiffs = 0;
  let insidePixels = 0;
  for (let p = 0; p < inside.length; p++) {
    const differs = a.data[p * 3] !== b.data[p * 3] || a.data[p * 3 + 1] !== b.data[p * 3 + 1] || a.data[p * 3 + 2] !== b.data[p * 3 + 2];
    if (inside[p]) {
      insidePixels++;
      if (differs) insideDiffs++;
    } else if (differs) outsideDiffs++;
  }
  return { outsideDiffs, insideDiffs, insidePixels };
}

export { POLISHED_DIR };
