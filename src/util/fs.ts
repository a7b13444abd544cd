/** Small file helpers used across rooms. */
import { readFile, stat } from "node:fs/promises";

/** Whether a path exists (file or folder); permission errors count as "no". */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Parses a JSON file; undefined when it is missing or not JSON (callers treat both as "none yet"). */
export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}
