/** Checks that a folder can be created or written, without creating it (dry runs stay read-only). */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";

export type WritableProblem = { reason: "not-a-directory" | "not-writable"; path: string };

export async function checkWritableDir(dir: string): Promise<WritableProblem | undefined> {
  let current = resolve(dir);
  for (;;) {
    try {
      const info = await stat(current);
      if (!info.isDirectory()) return { reason: "not-a-directory", path: current };
      try {
        await access(current, constants.W_OK | constants.X_OK);
        return undefined;
      } catch {
        return { reason: "not-writable", path: current };
      }
    } catch {
      const parent = dirname(current);
      if (parent === current) return { reason: "not-writable", path: current };
      current = parent;
    }
  }
}
