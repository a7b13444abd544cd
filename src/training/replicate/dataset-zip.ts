/**
 * The zip Replicate's trainer reads as `input_images` (replicate/flux-fine-tuner train.py): the prepared images and
 * their same-named `.txt` captions, nothing else. Deterministic (sorted names, fixed mtime, fixed
 * modes), so the same prepared set gives the same bytes and the same sha256, which is how a re-run
 * recognises its own earlier upload. Every image is checked for EXIF/XMP first: the prepared set
 * is written without metadata (src/selfies/prepare.ts), and a GPS tag must never leave the machine
 * even if someone edited the folder by hand.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { dirname, extname } from "node:path";
import { pipeline } from "node:stream/promises";
import yazl from "yazl";
import { UsageError } from "../../errors.js";
import { tempPathFor } from "../../util/atomic-write.js";

const IMAGE_EXT = new Set([".jpg", ".jpeg", ".png", ".webp"]);
/** Any fixed date after 1980 (DOS timestamps start there). */
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

export interface DatasetZip {
  path: string;
  sha256: string;
  bytes: number;
  images: number;
  captions: number;
  entries: string[];
}

/** The metadata segment a file carries, or undefined when it is clean. */
export function embeddedMetadata(name: string, bytes: Buffer): string | undefined {
  const ext = extname(name).toLowerCase();
  if (ext === ".jpg" || ext === ".jpeg") {
    if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return "not a JPEG file";
    let i = 2;
    while (i + 4 <= bytes.length && bytes[i] === 0xff) {
      const marker = bytes[i + 1] as number;
      if (marker === 0xda || marker === 0xd9) return undefined; // start of scan: no more headers
      const length = bytes.readUInt16BE(i + 2);
      if (marker === 0xe1) {
        const id = bytes.toString("latin1", i + 4, i + 4 + 29);
        return id.startsWith("Exif") ? "EXIF" : id.startsWith("http://ns.adobe.com/xap") ? "XMP" : "an APP1 segment";
      }
      i += 2 + length;
    }
    return undefined;
  }
  if (ext === ".png") {
    let i = 8;
    while (i + 8 <= bytes.length) {
      const length = bytes.readUInt32BE(i);
      const type = bytes.toString("latin1", i + 4, i + 8);
      if (type === "eXIf") return "EXIF";
      if (type === "iTXt" && bytes.toString("latin1", i + 8, i + 8 + 17) === "XML:com.adobe.xmp") return "XMP";
      if (type === "IEND") return undefined;
      i += 12 + length;
    }
    return undefined;
  }
  if (ext === ".webp") {
    const text = bytes.toString("latin1", 0, Math.min(bytes.length, 64 * 1024));
    return text.includes("EXIF") ? "EXIF" : text.includes("XMP ") ? "XMP" : undefined;
  }
  return undefined;
}

/** Zips `imagesDir` (flat: images + captions) into `target`, atomically. */
export async function zipDataset(imagesDir: string, target: string): Promise<DatasetZip> {
  const names = (await readdir(imagesDir, { withFileTypes: true }))
    .filter((d) => d.isFile())
    .map((d) => d.name)
    .filter((n) => !n.startsWith("."))
    .sort();
  const images = names.filter((n) => IMAGE_EXT.has(extname(n).toLowerCase()));
  const captions = names.filter((n) => extname(n).toLowerCase() === ".txt");
  if (images.length === 0) {
    throw new UsageError(`no images to upload in ${imagesDir}`, { code: "E_DATASET_EMPTY", hint: "re-run with --restart to prepare the training set again" });
  }
  const zip = new yazl.ZipFile();
  const entries: string[] = [];
  for (const name of [...images, ...captions].sort()) {
    const bytes = await readFile(`${imagesDir}/${name}`);
    const metadata = IMAGE_EXT.has(extname(name).toLowerCase()) ? embeddedMetadata(name, bytes) : undefined;
    if (metadata) {
      throw new UsageError(`${name} in the training set carries ${metadata}; refusing to upload it`, {
        code: "E_DATASET_METADATA",
        hint: "the prepared set is written without metadata; re-run with --restart to prepare it again from your selfies",
      });
    }
    // Images are already compressed: store them; captions deflate.
    zip.addBuffer(bytes, name, { mtime: FIXED_MTIME, mode: 0o100644, compress: extname(name).toLowerCase() === ".txt" });
    entries.push(name);
  }
  zip.end();
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  try {
    await pipeline(zip.outputStream, createWriteStream(temp));
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  const written = await readFile(target);
  const sha256 = createHash("sha256").update(written).digest("hex");
  return { path: target, sha256, bytes: written.length, images: images.length, captions: captions.length, entries };
}
