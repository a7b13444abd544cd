/**
 * An output an earlier run downloaded but did not get to record: a kill in the moment between the
 * download's rename into place and the manifest write leaves a complete file under the name the
 * re-run would download to. Using it keeps the image when Replicate has already deleted the
 * output (one hour after the prediction finished: https://replicate.com/docs/reference/http#predictions.get).
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
import { sha256File } from "../util/hash-file.js";
import { magicMatches, type DownloadResult } from "./download.js";

/** The extensions `downloadOutput` gives images, with the content type each comes from. */
const IMAGE_FILES: [string, string][] = [
  [".png", "image/png"],
  [".jpg", "image/jpeg"],
  [".webp", "image/webp"],
];

/**
 * The complete image already at `<dir>/<name>.<ext>`, or undefined. Downloads are written to a
 * temp name, fsynced and renamed, so a file under the final name is whole; its bytes must still
 * be the image type its extension says.
 */
export async function findEarlierDownload(dir: string, name: string): Promise<DownloadResult | undefined> {
  for (const [ext, contentType] of IMAGE_FILES) {
    const path = join(dir, `${name}${ext}`);
    let head: Buffer;
    let bytes: number;
    try {
      const handle = await open(path, "r");
      try {
        const stat = await handle.stat();
        if (!stat.isFile()) continue;
        bytes = stat.size;
        head = Buffer.alloc(16);
        await handle.read(head, 0, 16, 0);
      } finally {
        await handle.close();
      }
    } catch {
      continue;
    }
    if (bytes > 0 && magicMatches("image", contentType, head)) return { path, sha256: await sha256File(path), bytes, contentType };
  }
  return undefined;
}
