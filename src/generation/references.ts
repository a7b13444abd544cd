/**
 * Reference mode (`gen --ref ./selfies`): FLUX.2 takes the person's photos as `input_images`
 * (klein: `images`) instead of a trained LoRA (https://replicate.com/black-forest-labs/flux-2-dev/api).
 *
 * The photos are judged by `headshot check` (src/selfies), then the best ones are picked, up to the
 * model's maximum: sharp, facing the camera, and varied (near-duplicates skipped, different head
 * angles preferred). Each is re-encoded without EXIF (no GPS or camera data leaves the machine),
 * at most 1536 px on the long side, and uploaded through Replicate's files API.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { hamming } from "../selfies/quality.js";

export interface ReferenceCandidate {
  file: string;
  path: string;
  sha256: string;
  verdict: "ok" | "warn" | "reject";
  sharpness?: number | undefined;
  face?: { yaw: number; pitch: number; roll?: number } | undefined;
  dhash?: string | undefined;
}

export interface PickedReference {
  file: string;
  path: string;
  sha256: string;
  /** Why it was picked, for the "references used" list. */
  reason: string;
}

export interface ReferencePick {
  picked: PickedReference[];
  skipped: Array<{ file: string; reason: string }>;
}

/** Images whose difference hashes differ in at most this many bits are the same shot. */
const DUPLICATE_BITS = 4;

/** Bits that differ between two hex difference hashes (the selfie checker's measure). */
export const hammingHex = hamming;

function frontality(face: ReferenceCandidate["face"]): number {
  if (!face) return 0;
  return Math.max(0, 1 - (Math.abs(face.yaw) + Math.abs(face.pitch) * 0.5) / 45);
}

/** Pure: chooses up to `max` references, best first. */
export function pickReferences(images: ReadonlyArray<ReferenceCandidate>, max: number): ReferencePick {
  const skipped: ReferencePick["skipped"] = [];
  const usable = images.filter((image) => {
    if (image.verdict === "reject") skipped.push({ file: image.file, reason: "rejected by headshot check" });
    else if (!image.face) skipped.push({ file: image.file, reason: "no face found" });
    else return true;
    return false;
  });
  // Sharpness compared within the set (rank), so the scale of the measure does not matter.
  const bySharpness = [...usable].sort((a, b) => (a.sharpness ?? 0) - (b.sharpness ?? 0));
  const sharpRank = new Map(bySharpness.map((image, i) => [image, bySharpness.length > 1 ? i / (bySharpness.length - 1) : 1]));
  const quality = (image: ReferenceCandidate) =>
    0.55 * (image.sharpness === undefined ? 0.5 : (sharpRank.get(image) ?? 0.5)) + 0.35 * frontality(image.face) + (image.verdict === "ok" ? 0.1 : 0);

  const picked: Array<{ image: ReferenceCandidate; reason: string }> = [];
  const pool = [...usable];
  while (picked.length < max && pool.length) {
    let best: { image: ReferenceCandidate; score: number; novelty: number } | undefined;
    for (const image of [...pool]) {
      const duplicateOf = picked.find((p) => image.dhash && p.image.dhash && hammingHex(image.dhash, p.image.dhash) <= DUPLICATE_BITS);
      if (duplicateOf || picked.some((p) => p.image.sha256 === image.sha256)) {
        skipped.push({ file: image.file, reason: `near-duplicate of ${duplicateOf?.image.file ?? "another photo"}` });
        pool.splice(pool.indexOf(image), 1);
        continue;
      }
      // Novelty: how different from the photos already picked (frame hash and head angle).
      let novelty = 1;
      for (const p of picked) {
        const frame = image.dhash && p.image.dhash ? Math.min(1, (hammingHex(image.dhash, p.image.dhash) / 64) * 3) : 0.5;
        const pose = Math.min(1, Math.abs((image.face?.yaw ?? 0) - (p.image.face?.yaw ?? 0)) / 20);
        novelty = Math.min(novelty, Math.max(frame, pose));
      }
      const score = quality(image) * (0.6 + 0.4 * novelty);
      if (!best || score > best.score) best = { image, score, novelty };
    }
    if (!best) break;
    pool.splice(pool.indexOf(best.image), 1);
    const yaw = Math.round(best.image.face?.yaw ?? 0);
    const reason = picked.length === 0 ? `sharpest frontal photo (yaw ${yaw}°)` : `adds variety (yaw ${yaw}°${best.image.sharpness !== undefined ? `, sharpness ${Math.round(best.image.sharpness)}` : ""})`;
    picked.push({ image: best.image, reason });
  }
  for (const image of pool) skipped.push({ file: image.file, reason: `not needed (the model takes at most ${max})` });
  return { picked: picked.map(({ image, reason }) => ({ file: image.file, path: image.path, sha256: image.sha256, reason })), skipped };
}

/** Runs `headshot check` on the folder and picks the references (offline). */
export async function selectReferences(dir: string, options: { home: string; max: number; signal?: AbortSignal }): Promise<ReferencePick> {
  const { runCheck } = await import("../selfies/index.js");
  const report = await runCheck(dir, { home: options.home, ...(options.signal ? { signal: options.signal } : {}) });
  const candidates: ReferenceCandidate[] = report.images.map((image) => ({
    file: image.file,
    path: image.path,
    sha256: image.sha256,
    verdict: image.verdict,
    sharpness: image.sharpness,
    face: image.face,
    dhash: image.dhash,
  }));
  const pick = pickReferences(candidates, options.max);
  if (!pick.picked.length) {
    throw new UsageError(`No usable reference photo in ${dir}`, {
      code: "E_REF_NONE_USABLE",
      details: pick.skipped.slice(0, 10).map((s) => `${s.file}: ${s.reason}`),
      hint: `see why with: headshot check ${dir}; add sharp, well-lit photos of one face looking at the camera`,
    });
  }
  return pick;
}

/** The bytes sent for a reference: EXIF-free JPEG, orientation applied, long side at most 1536 px. */
export async function referenceBytes(path: string): Promise<{ bytes: Buffer; sha256: string }> {
  // The selfie decoder handles HEIC and applies EXIF orientation; sharp drops all metadata on output.
  const { openImage } = await import("../selfies/decode.js");
  const opened = await openImage(await readFile(path));
  const bytes = await opened
    .pipeline()
    .resize({ width: 1536, height: 1536, fit: "inside", withoutEnlargement: true })
    .jpeg({ quality: 92 })
    .toBuffer();
  return { bytes, sha256: createHash("sha256").update(bytes).digest("hex") };
}
