/**
 * `<identity>/training/replicate.json`: what a paid Replicate training needs to be found again
 * after a crash, a sleeping laptop or a SIGKILL, so that a re-run re-attaches instead of paying
 * twice.
 *
 * - `intent` is written (atomically) BEFORE the create request, with the exact input (including
 *   the uploaded zip's URL, unique per upload). If we die between the create and writing its id,
 *   the next run finds the training in `GET /trainings` by trainer model + destination + input,
 *   and never creates a second one blindly.
 * - `training` is written right after the create answers, before any waiting.
 * - `status`, `output`, `metrics` are updated as the training ends; `lora` once extracted.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import { writeJsonAtomic } from "../../util/atomic-write.js";

export const REMOTE_STATE_FILE = "replicate.json";

export interface RemoteTrainingState {
  schemaVersion: 1;
  trainer: { owner: string; name: string; version: string };
  destination: string;
  /** The full input sent (no secrets: headshot never sends hf_token or wandb keys). */
  input: Record<string, unknown>;
  upload: { id: string; url: string; sha256: string; bytes: number; expiresAt: string | null };
  intentAt: string;
  training?: { id: string; createdAt: string; web?: string };
  status?: string;
  error?: string | null;
  output?: { version?: string; weights?: string };
  completedAt?: string | null;
  metrics?: { predict_time?: number; total_time?: number };
  lora?: { path: string; sha256: string; bytes: number };
}

export function remoteStatePath(trainingDir: string): string {
  return join(trainingDir, REMOTE_STATE_FILE);
}

export async function readRemoteState(trainingDir: string): Promise<RemoteTrainingState | undefined> {
  const file = remoteStatePath(trainingDir);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as RemoteTrainingState;
    if (value.schemaVersion !== 1 || typeof value.destination !== "string" || !value.upload?.url) throw new Error("unexpected shape");
    return value;
  } catch (error) {
    // Never guess: a training may be running and billed; the user decides.
    throw new UsageError(`${file} is unreadable (${(error as Error).message})`, {
      code: "E_TRAIN_STATE_CORRUPT",
      hint: "check https://replicate.com/trainings for a running training of this identity; then re-run with --restart to start over",
    });
  }
}

export async function writeRemoteState(trainingDir: string, state: RemoteTrainingState): Promise<void> {
  await writeJsonAtomic(remoteStatePath(trainingDir), state);
}
