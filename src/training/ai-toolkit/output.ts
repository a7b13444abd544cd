/**
 * What is in ai-toolkit's output folder `<training_folder>/<name>/` (ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py):
 * step checkpoints `<name>_000000250.safetensors`, the final `<name>.safetensors`, `optimizer.pt`
 * and `samples/<unix_ms>__<step 9 digits>_<i>.jpg`. Used to decide resume / already finished
 * and to report new checkpoints and samples as they land.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { readTrainingStep } from "./safetensors.js";

export interface OutputState {
  finalLora?: { path: string; step: number | undefined };
  checkpoints: { path: string; step: number }[];
  samples: { path: string; step: number }[];
}

const SAMPLE = /^\d+__(\d{9})_\d+\.(jpg|jpeg|png|webp)$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

export async function inspectOutput(outputDir: string, name: string): Promise<OutputState> {
  const checkpointRe = new RegExp(`^${escapeRegExp(name)}_(\\d{9})\\.safetensors$`);
  const state: OutputState = { checkpoints: [], samples: [] };
  for (const file of await list(outputDir)) {
    const m = checkpointRe.exec(file);
    if (m) state.checkpoints.push({ path: join(outputDir, file), step: Number(m[1]) });
    if (file === `${name}.safetensors`) {
      const path = join(outputDir, file);
      state.finalLora = { path, step: await readTrainingStep(path) };
    }
  }
  state.checkpoints.sort((a, b) => a.step - b.step);
  state.samples = await listSamples(join(outputDir, "samples"));
  return state;
}

export async function listSamples(samplesDir: string): Promise<{ path: string; step: number }[]> {
  const out: { path: string; step: number }[] = [];
  for (const file of await list(samplesDir)) {
    const m = SAMPLE.exec(file);
    if (m) out.push({ path: join(samplesDir, file), step: Number(m[1]) });
  }
  return out.sort((a, b) => a.step - b.step || a.path.localeCompare(b.path));
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
