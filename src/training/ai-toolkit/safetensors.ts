/**
 * Reads the JSON header of a .safetensors file (8-byte little-endian length, then JSON) to get
 * ai-toolkit's metadata: `training_info` = {"step": N, "epoch": E} as a JSON string (ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py).
 */
import { open } from "node:fs/promises";

/** Headers larger than this are not LoRA files we wrote; refuse rather than read gigabytes. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export async function readSafetensorsMetadata(path: string): Promise<Record<string, string>> {
  const handle = await open(path, "r");
  try {
    const lengthBuf = Buffer.alloc(8);
    const { bytesRead } = await handle.read(lengthBuf, 0, 8, 0);
    if (bytesRead < 8) throw new Error(`${path} is not a safetensors file (too short)`);
    const length = Number(lengthBuf.readBigUInt64LE(0));
    if (length <= 0 || length > MAX_HEADER_BYTES) throw new Error(`${path} is not a safetensors file (header length ${length})`);
    const header = Buffer.alloc(length);
    const read = await handle.read(header, 0, length, 8);
    if (read.bytesRead < length) throw new Error(`${path} is truncated (header incomplete)`);
    const parsed = JSON.parse(header.toString("utf8")) as { __metadata__?: Record<string, string> };
    return parsed.__metadata__ ?? {};
  } finally {
    await handle.close();
  }
}

/** The training step stored in a checkpoint, or undefined when absent or unreadable. */
export async function readTrainingStep(path: string): Promise<number | undefined> {
  try {
    const meta = await readSafetensorsMetadata(path);
    const info = meta.training_info ? (JSON.parse(meta.training_info) as { step?: unknown }) : undefined;
    return typeof info?.step === "number" ? info.step : undefined;
  } catch {
    return undefined;
  }
}
