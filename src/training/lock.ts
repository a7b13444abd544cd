/**
 * One training per identity at a time: two ai-toolkit processes writing the same output folder
 * would corrupt each other's checkpoints. The lock is src/util/folder-lock.ts's (pid, host and
 * process start time): a lock left by a process that no longer exists (killed with SIGKILL, power
 * loss), or whose pid now belongs to another process, is taken over.
 */
import { hostname } from "node:os";
import { UsageError } from "../errors.js";
import { acquireFolderLock } from "../util/folder-lock.js";

export const TRAINING_LOCK_FILE = "headshot.lock";

export async function acquireTrainingLock(trainingDir: string, name: string): Promise<() => Promise<void>> {
  const { release } = await acquireFolderLock(trainingDir, {
    command: `headshot train --name ${name}`,
    lockFile: TRAINING_LOCK_FILE,
    lockedError: (owner) =>
      new UsageError(`another \`headshot train\` is already training "${name}" (pid ${owner.pid}${owner.host !== hostname() ? ` on ${owner.host}` : ""})`, {
        code: "E_TRAIN_LOCKED",
        hint: `wait for it to finish or stop it (Ctrl-C in its terminal, or kill -INT ${owner.pid}); it resumes when run again`,
      }),
  });
  return release;
}
