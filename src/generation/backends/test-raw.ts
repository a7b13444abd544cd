/**
 * How the test backend hands over a picture it made (a placeholder, a rehearsal preview, or the
 * face pass's labelled repaint): written atomically as `<rawDir>/<rawName>.png`, free, and marked
 * `placeholder: true` like every test-backend image.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { InterruptedError } from "../../errors.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import type { GenResult } from "../generator.js";

export async function testRawResult(place: { rawDir: string; rawName: string }, bytes: Buffer, remoteId: string, signal: AbortSignal, rehearsal?: GenResult["rehearsal"]): Promise<GenResult> {
  if (signal.aborted) throw new InterruptedError();
  const rawPath = join(place.rawDir, `${place.rawName}.png`);
  await writeFileAtomic(rawPath, bytes);
  return {
    rawPath,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    contentType: "image/png",
    remote: { id: remoteId, modelRef: "test" },
    costUsd: 0,
    costSource: "free",
    placeholder: true,
    ...(rehearsal ? { rehearsal } : {}),
  };
}
