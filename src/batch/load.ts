/** Loads a batch file with located errors and resolves its paths relative to the file. */
import { dirname, isAbsolute, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { MAX_YAML_BYTES, NotReadableError, readYamlText, REASON_TEXT } from "../util/regular-file.js";
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
    text = await readYamlText(file);
  } catch (error) {
    // Only a regular file under 1 MB is read: a FIFO or /dev/zero must not hang or fill memory.
    const reason = error instanceof NotReadableError ? error.reason : "missing";
    throw new UsageError(reason === "missing" ? `Batch file not found: ${file}` : `Batch file ${file} is ${REASON_TEXT[reason]}`, {
      code: "E_BATCH_NOT_FOUND",
      hint: reason === "too-large" ? `a batch file is a short YAML file (at most ${MAX_YAML_BYTES / 1024 / 1024} MB)` : "pass the path of a batch YAML file (see examples/team.yaml)",
    });
  }
  const { value } = loadYamlWithSchema(file, text, batchSchema, "Batch file");
  return { path: file, dir: dirname(file), batch: value };
}

/** A path from the batch file, relative to the file's folder. */
export function batchPath(loaded: LoadedBatch, path: string): string {
  return isAbsolute(path) ? path : resolve(loaded.dir, path);
}
