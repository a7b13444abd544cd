/**
 * How `gen` holds its output folder while it works (issue 14): the folder lock is taken before
 * anything is requested or paid for (S3), a dead run's lock is taken over with a `lock.takeover`
 * event, and a disk that is full before the engine even starts (the lock, the manifest) is the
 * same typed E_DISK_FULL as one that fills up during the batch (R2).
 */
import { DiskFullError, diskErrorCode } from "../util/disk-full.js";
import type { LockOwner } from "../util/folder-lock.js";

export interface LockTakeoverEvent {
  type: "lock.takeover";
  folder: string;
  previous: LockOwner;
}

/** Runs `work` holding `folder`'s lock; `resume` is the command that resumes this run. */
export async function withOutputFolder<T>(folder: string, resume: string, onEvent: (event: LockTakeoverEvent) => void, work: () => Promise<T>): Promise<T> {
  const { acquireFolderLock } = await import("../util/folder-lock.js");
  try {
    const lock = await acquireFolderLock(folder, { command: resume, what: "no image" });
    if (lock.takeover) onEvent({ type: "lock.takeover", folder: lock.takeover.folder, previous: lock.takeover.previous });
    try {
      return await work();
    } finally {
      await lock.release();
    }
  } catch (error) {
    if (error instanceof DiskFullError) {
      // From the engine: the same error, with the exact command that resumes this run.
      throw new DiskFullError(error.errno, folder, { landed: error.details[0] ?? "", resume, cause: error.cause });
    }
    const errno = diskErrorCode(error);
    if (!errno) throw error;
    throw new DiskFullError(errno, folder, { landed: "no image was written by this run; images finished before are kept", resume, cause: error });
  }
}
