/** Loads a batch file with located errors and resolves its paths relative to the file. */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { loadYamlWithSchema } from "../yaml/located.js";
import { batchSchema, type BatchFile } from "./schema.js";

export interface LoadedBatch {
  path: string;
  dir: string;
  batch: BatchFile;
}

export async function loadBatchFile(path: string, cwd: string): Promise<LoadedBatch> {
  const file = isAbsolute(path) ? path : resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new UsageError(`Batch file not found: ${file}`, {
      code: "E_BATCH_NOT_FOUND",
      hint: "pass the path of a batch YAML file (see examples/team.yaml)",
    });
  }
  const { value } = loadYamlWithSchema(file, text, batchSchema, "Batch file");
  return { path: file, dir: dirname(file), batch: value };
}

/** A path from the batch file, relative to the file's folder. */
export function batchPath(loaded: LoadedBatch, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.dir, path);
}
