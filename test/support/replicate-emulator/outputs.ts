/**
 * Output files the emulator serves without auth, like replicate.delivery (replicate/replicate-javascript lib/stream.js; https://replicate.com/docs/reference/http#predictions.get):
 * real images made with sharp, and a real trained_model.tar holding a valid .safetensors file
 * (flux-fine-tuner layout: output/flux_train_replicate/lora.safetensors + captions: 2.6, 3.1).
 */
import sharp from "sharp";
import { pack } from "tar-stream";

export type Delivered =
  | { kind: "image"; seed: number; index: number; format: "webp" | "jpg" | "png"; width: number; height: number; completedAt: number; source?: Buffer | undefined }
  | { kind: "tar"; bytes: Buffer; completedAt: number };

const CONTENT_TYPES = { webp: "image/webp", jpg: "image/jpeg", png: "image/png" } as const;

export function imageSize(aspect: unknown, longSide: number): { width: number; height: number } {
  const match = typeof aspect === "string" ? aspect.match(/^(\d+):(\d+)$/) : null;
  const w = match ? Number(match[1]) : 1;
  const h = match ? Number(match[2]) : 1;
  const scale = longSide / Math.max(w, h);
  return { width: Math.max(8, Math.round(w * scale)), height: Math.max(8, Math.round(h * scale)) };
}

/** A small gradient image whose colours derive from the seed and output index. */
export async function renderImage(item: Extract<Delivered, { kind: "image" }>): Promise<{ bytes: Buffer; contentType: string }> {
  if (item.source) {
    // A test-provided picture (EmulatorOptions.outputImage), in the format the input asked for.
    const image = sharp(item.source);
    const bytes = item.format === "png" ? await image.png().toBuffer() : item.format === "jpg" ? await image.jpeg({ quality: 90 }).toBuffer() : await image.webp({ quality: 90 }).toBuffer();
    return { bytes, contentType: CONTENT_TYPES[item.format] };
  }
  const { width, height, seed, index } = item;
  const base = (seed * 2654435761 + index * 40503) >>> 0;
  const [r, g, b] = [base & 0xff, (base >>> 8) & 0xff, (base >>> 16) & 0xff];
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      pixels[o] = (r + x * 2) & 0xff;
      pixels[o + 1] = (g + y * 2) & 0xff;
      pixels[o + 2] = b;
    }
  }
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  const bytes =
    item.format === "png" ? await image.png().toBuffer() : item.format === "jpg" ? await image.jpeg({ quality: 80 }).toBuffer() : await image.webp({ quality: 80 }).toBuffer();
  return { bytes, contentType: CONTENT_TYPES[item.format] };
}

/** A valid safetensors file: u64 LE header length, JSON header, then the tensor bytes. */
export function buildSafetensors(rank: number, triggerWord: string): Buffer {
  const tensors = [
    { name: "transformer.single_transformer_blocks.0.proj_out.lora_A.weight", shape: [rank, 16] },
    { name: "transformer.single_transformer_blocks.0.proj_out.lora_B.weight", shape: [16, rank] },
  ];
  const header: Record<string, unknown> = { __metadata__: { format: "pt", trigger_word: triggerWord, name: "flux_train_replicate" } };
  const datas: Buffer[] = [];
  let offset = 0;
  for (const t of tensors) {
    const count = (t.shape[0] ?? 0) * (t.shape[1] ?? 0);
    const data = Buffer.alloc(count * 4);
    for (let i = 0; i < count; i++) data.writeFloatLE(Math.sin(i) * 0.01, i * 4);
    header[t.name] = { dtype: "F32", shape: t.shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
    datas.push(data);
  }
  let json = JSON.stringify(header);
  // The header is padded with spaces to a multiple of 8, as the reference writer does.
  json = json.padEnd(Math.ceil(json.length / 8) * 8, " ");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json), ...datas]);
}

export async function buildWeightsTar(options: { rank: number; triggerWord: string; captions: number }): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (c: unknown) => {
    chunks.push(c as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    tar.on("end", () => resolve());
    tar.on("error", reject);
  });
  const add = (name: string, content: Buffer | string) =>
    new Promise<void>((resolve, reject) => tar.entry({ name, mtime: new Date(0) }, content, (err) => (err ? reject(err) : resolve())));
  await add("output/flux_train_replicate/lora.safetensors", buildSafetensors(options.rank, options.triggerWord));
  for (let i = 0; i < options.captions; i++) {
    await add(`output/flux_train_replicate/captions/${String(i).padStart(3, "0")}.txt`, `a photo of ${options.triggerWord}, portrait ${i}`);
  }
  await add("output/flux_train_replicate/config.yaml", `job: extension\nconfig:\n  name: flux_train_replicate\n  trigger_word: ${options.triggerWord}\n`);
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}
