/**
 * How `gen` holds its output folder while it works (issue 14): the folder lock is taken before
 * anything is requested or paid for (S3), a dead run's lock is taken over with a notice, and a
 * disk that is full before the engine even starts (the lock, the manifest) is the same typed
 * E_DISK_FULL as one that fills up during the batch (R2).
 */
import { DiskFullError, diskErrorCode } from "../util/disk-full.js";
import type { LockTakeover } from "../util/folder-lock.js";
import type { Reporter } from "./reporter.js";

/** The notice when a crashed run's lock is taken over (a warning, or a `lock.takeover` event). */
export function noteTakeover(reporter: Reporter, takeover: LockTakeover): void {
  const { previous, folder } = takeover;
  reporter.event("lock.takeover", { folder, previous });
  reporter.warn(`took over the lock on ${folder}: the run that held it (pid ${previous.pid}${previous.startedAt ? `, started ${previous.startedAt}` : ""}) is gone`);
}

/** Runs `work` holding `folder`'s lock; `resume` is the command that resumes this run. */
export async function withOutputFolder(reporter: Reporter, folder: string, resume: string, work: () => Promise<void>): Promise<void> {
  const { acquireFolderLock } = await import("../util/folder-lock.js");
  try {
    const lock = await acquireFolderLock(folder, { command: resume, what: "no image" });
    if (lock.takeover) noteTakeover(reporter, lock.takeover);
    try {
      await work();
    } finally {
      await lock.release();
    }
  } catch (error) {
    const errno = error instanceof DiskFullError ? undefined : diskErrorCode(error);
    if (!errno) throw error;
    throw new DiskFullError(errno, folder, { landed: "no image was written by this run; images finished before are kept", resume, cause: error });
  }
}
