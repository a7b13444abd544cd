import sharp from "sharp";
import { readFile } from "node:fs/promises";
const [ws, out, tag] = process.argv.slice(2);
const m = JSON.parse(await readFile(`${ws}/out/polished/polish-manifest.json`, "utf8"));
for (const e of Object.values(m.images)) {
  if (!e.after) continue;
  const W = 512;
  const pair = async (a, b, name, region) => {
    const ex = region ? { left: region.left, top: region.top, width: region.side, height: region.side } : null;
    const load = (p) => (ex ? sharp(p).extract(ex) : sharp(p)).resize(W, W, { fit: "inside" }).png().toBuffer();
    const A = await load(a), B = await load(b);
    const ma = await sharp(A).metadata();
    await sharp({ create: { width: ma.width * 2 + 8, height: ma.height, channels: 3, background: "#ffffff" } })
      .composite([{ input: A, left: 0, top: 0 }, { input: B, left: ma.width + 8, top: 0 }]).png().toFile(`${out}/${name}`);
  };
  const stem = e.file.replace(/\.[^.]+$/, "");
  await pair(`${ws}/out/${e.file}`, `${ws}/out/polished/${e.after.file}`, `${tag}-${stem}-full.png`);
  await pair(`${ws}/out/${e.file}`, `${ws}/out/polished/${e.after.file}`, `${tag}-${stem}-face.png`, e.faces[0].region);
}
