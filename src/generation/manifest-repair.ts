/**
 * A manifest after a crash or a kill: each entry back to the state its files prove, temp files and
 * orphaned raw outputs removed, images moved to or from rejected/ found by their bytes.
 */
import { readdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { TEMP_PREFIX } from "../util/atomic-write.js";
import { sha256File } from "../util/hash-file.js";
import { RAW_DIR, REJECTED_DIR, type Manifest, type ManifestEntry } from "./manifest.js";

async function hashIfPresent(path: string): Promise<string | undefined> {
  try {
    return await sha256File(path);
  } catch {
    return undefined;
  }
}

/**
 * Brings a manifest in line with the files on disk after a crash or a kill: removes temp files,
 * steps an entry back to the last state its files prove, and deletes raw outputs nothing refers to.
 * Returns one line per repair (for --verbose and the summary).
 */
export async function repairManifest(manifest: Manifest, outDir: string): Promise<string[]> {
  const repairs: string[] = [];
  const rawDir = join(outDir, RAW_DIR);
  for (const dir of [outDir, rawDir]) {
    let names: string[] = [];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      await rm(join(dir, name), { force: true });
      repairs.push(`removed the unfinished temp file ${name}`);
    }
  }
  for (const entry of Object.values(manifest.images)) {
    if (entry.status === "done") {
      const actual = entry.file ? await hashIfPresent(join(outDir, entry.file)) : undefined;
      if (actual && actual === entry.sha256) continue;
      // Set aside (or fished out of rejected/) by hand or by a run killed between the move and the
      // manifest write: the same bytes in the other place are still this image, never paid twice.
      const moved = entry.file ? await findMoved(outDir, entry.file, entry.sha256) : undefined;
      if (moved) {
        repairs.push(`${entry.file}: found at ${moved.file}`);
        entry.file = moved.file;
        entry.sidecar = moved.sidecar;
        if (moved.file.startsWith(`${REJECTED_DIR}/`)) entry.kept = false;
        else delete entry.kept;
        continue;
      }
      repairs.push(`${entry.file ?? entry.key}: ${actual ? "changed on disk" : "missing"}; it will be made again`);
      stepBack(entry);
    }
    if (entry.status === "downloaded") {
      const actual = entry.raw ? await hashIfPresent(join(outDir, entry.raw.path)) : undefined;
      if (actual && entry.raw && actual === entry.raw.sha256) continue;
      repairs.push(`${entry.key}: its downloaded output is missing; ${entry.predictionId ? "it will be fetched again" : "it will be made again"}`);
      delete entry.raw;
      entry.status = entry.predictionId ? "created" : "planned";
    }
  }
  const referenced = new Set(Object.values(manifest.images).flatMap((e) => (e.raw ? [e.raw.path] : [])));
  // Kept: the download of a prediction the manifest still waits for, killed before its record
  // (the re-run uses it: src/replicate/earlier-download.ts). Its name is `<key>-a<attempt>.<ext>`.
  const awaited = new Set(
    Object.values(manifest.images).flatMap((e) => {
      const attempt = e.attempts[e.attempts.length - 1]?.n;
      return (e.status === "created" || e.status === "creating") && attempt ? [`${e.key}-a${attempt}`] : [];
    }),
  );
  let rawNames: string[] = [];
  try {
    rawNames = await readdir(rawDir);
  } catch {
    // no raw folder yet
  }
  for (const name of rawNames) {
    if (referenced.has(`${RAW_DIR}/${name}`) || awaited.has(name.replace(/\.[a-z]+$/, ""))) continue;
    await rm(join(rawDir, name), { force: true });
  }
  return repairs;
}

/** A done image is at the top of the folder or in rejected/, under the same name. */
async function findMoved(outDir: string, file: string, sha256: string | undefined): Promise<{ file: string; sidecar: string } | undefined> {
  const name = basename(file);
  const other = file.startsWith(`${REJECTED_DIR}/`) ? name : `${REJECTED_DIR}/${name}`;
  const actual = await hashIfPresent(join(outDir, other));
  if (!actual || actual !== sha256) return undefined;
  return { file: other, sidecar: other.replace(/\.[^./]+$/, ".json") };
}

/** A done entry whose file is gone: back to the last state that still holds. */
function stepBack(entry: ManifestEntry): void {
  delete entry.file;
  delete entry.sidecar;
  delete entry.sha256;
  delete entry.bytes;
  delete entry.width;
  delete entry.height;
  entry.status = entry.raw ? "downloaded" : entry.predictionId ? "created" : "planned";
}
