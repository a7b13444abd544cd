/**
 * The one call `gen` makes after its engine finishes (issue 9): score the batch against the
 * identity (or the --ref selfies), keep the best / move the rest (`--keep-best`,
 * `--min-similarity`), cut crops (`--crops`), record each score in the manifest entry and the
 * sidecar, and write `index.html` + `contact-sheet.png` next to `manifest.json`. Without an
 * identity or reference photos (e.g. `--backend test` with no identity) there is nothing to compare
 * with: the gallery and contact sheet are still written, unscored.
 */
import type { ImageScore } from "../scoring/similarity.js";
import { curate, type CuratedImage } from "./curate.js";
import { writeGalleryAndSheet } from "./contact-sheet.js";
import type { GalleryEntry } from "./gallery.js";

/** The manifest entry fields read here (src/generation/manifest.ts ManifestEntry has them all). */
export interface BatchEntry {
  key: string;
  status: string;
  file?: string | undefined;
  prompt: string;
  seed: number;
}

/** ManifestStore.update, structurally: apply a change to an entry and persist it. */
export interface EntryStore {
  update(key: string, change: (entry: Record<string, unknown>) => void): Promise<void>;
}

export interface AfterBatchOptions {
  outDir: string;
  home: string;
  /** `--identity`: compare with the trained identity. */
  identity?: string;
  /** `--ref <dir>` (reference mode): compare with those selfies. */
  selfies?: string;
  keep?: number;
  minSimilarity?: number;
  crops?: boolean;
  /** Move the images not kept to rejected/ (default: when selecting). A batch marks them in place. */
  moveRejected?: boolean;
  title: string;
  /** Shown in the gallery when the images are not generated photos (test placeholders, previews). */
  notice?: string | undefined;
  /** Scores taken while generating (`--until`, see src/scoring/until.ts PassCounter.scores). */
  scored?: Map<string, ImageScore>;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, file: string) => void;
}

export interface AfterBatchResult {
  scored: boolean;
  images: CuratedImage[];
  kept: number;
  setAside: number;
  galleryPath: string;
  contactSheetPath: string;
  warnings: string[];
}

/** What is added to a manifest entry (the manifest schema must allow these keys to keep them). */
export interface EntryScoreFields {
  score: CuratedImage["score"];
  kept: boolean;
  rejectedReason?: string;
  crops?: CuratedImage["crops"];
}

export async function afterBatch(entries: BatchEntry[], store: EntryStore | undefined, options: AfterBatchOptions): Promise<AfterBatchResult> {
  const done = entries.filter((e): e is BatchEntry & { file: string } => e.status === "done" && typeof e.file === "string");
  if (!options.identity && !options.selfies) {
    const gallery: GalleryEntry[] = done.map((e) => ({ file: e.file, kept: true, prompt: e.prompt, seed: e.seed }));
    const { galleryPath, contactSheetPath } = await writeGalleryAndSheet(options.outDir, gallery, { title: options.title, notice: options.notice });
    return { scored: false, images: [], kept: done.length, setAside: 0, galleryPath, contactSheetPath, warnings: [] };
  }
  const { loadReference } = await import("../scoring/reference.js");
  const reference = await loadReference({
    home: options.home,
    ...(options.identity ? { identity: options.identity } : { selfies: options.selfies! }),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const select = options.keep !== undefined || options.minSimilarity !== undefined;
  const result = await curate(
    done.map((e) => ({ file: e.file, key: e.key, prompt: e.prompt, seed: e.seed })),
    {
      outDir: options.outDir,
      reference,
      home: options.home,
      ...(options.keep !== undefined ? { keep: options.keep } : {}),
      ...(options.minSimilarity !== undefined ? { minSimilarity: options.minSimilarity } : {}),
      // Without --keep-best / --min-similarity nothing is moved: the gallery only dims.
      moveRejected: options.moveRejected ?? select,
      crops: Boolean(options.crops),
      sidecars: "all",
      title: options.title,
      notice: options.notice,
      ...(options.scored ? { scored: options.scored } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
  if (store) {
    // Every entry changes in memory at once and the writes are awaited together: ManifestStore
    // (src/generation/manifest.ts) puts every change made while a write is pending into that one
    // write, and a batch's store spaces its writes 100 ms apart (src/generation/batch-manifest.ts),
    // so awaiting one update after the other cost a whole-manifest write plus that interval per
    // image: about 10 s of an idle machine for 100 images, after every image was scored.
    const writes: Array<Promise<void>> = [];
    for (const image of result.images) {
      if (!image.key) continue;
      writes.push(
        store.update(image.key, (entry) => {
          const fields: EntryScoreFields = { score: image.score, kept: image.kept };
          if (image.reason) fields.rejectedReason = image.reason;
          if (image.crops.length) fields.crops = image.crops;
          Object.assign(entry, fields);
          // Moved to rejected/: the file's bytes (and sha256) are unchanged, only its place.
          entry.file = image.file;
          entry.sidecar = image.sidecar;
        }),
      );
    }
    await Promise.all(writes);
  }
  const kept = result.images.filter((i) => i.kept).length;
  return {
    scored: true,
    images: result.images,
    kept,
    setAside: result.images.length - kept,
    galleryPath: result.galleryPath,
    contactSheetPath: result.contactSheetPath,
    warnings: result.warnings,
  };
}
