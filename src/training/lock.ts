/**
 * One training per identity at a time: two ai-toolkit processes writing the same output folder
 * would corrupt each other's checkpoints. The lock holds our pid; a lock left by a process that
 * no longer exists (killed with SIGKILL, power loss) is taken over.
 */
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function acquireTrainingLock(trainingDir: string, name: string): Promise<() => Promise<void>> {
  await mkdir(trainingDir, { recursive: true });
  const file = join(trainingDir, "headshot.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, "wx");
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      return () => rm(file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new UsageError(`another \`headshot train\` is already training "${name}" (pid ${pid})`, {
          code: "E_TRAIN_LOCKED",
          hint: `wait for it to finish or stop it (Ctrl-C in its terminal, or kill -INT ${pid}); it resumes when run again`,
        });
      }
      await rm(file, { force: true }); // stale: its process is gone
    }
  }
  throw new UsageError(`could not lock ${file}`, { code: "E_TRAIN_LOCKED", hint: "remove the file if no training is running" });
}
