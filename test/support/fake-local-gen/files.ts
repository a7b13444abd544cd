/**
 * Small binary helpers for the local-generation tests: write a real safetensors file (the format
 * ai-toolkit saves LoRAs in: u64 little-endian header length, JSON header, raw data) and read a PNG's
 * size from its IHDR chunk.
 */
import { readFile, writeFile } from "node:fs/promises";

/** Writes zero-filled BF16 tensors with the given shapes. */
export async function writeSafetensors(path: string, tensors: Record<string, number[]>, metadata?: Record<string, string>): Promise<void> {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const [name, shape] of Object.entries(tensors)) {
    const bytes = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: "BF16", shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  await writeFile(path, Buffer.concat([length, json, Buffer.alloc(offset)]));
}

export async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const data = await readFile(path);
  if (data.subarray(0, 8).toString("latin1") !== "\x89PNG\r\n\x1a\n") throw new Error(`${path} is not a PNG`);
  if (data.subarray(12, 16).toString("latin1") !== "IHDR") throw new Error(`${path} has no IHDR first`);
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20) };
}

export async function readJsonLines<T = Record<string, unknown>>(path: string): Promise<T[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as T);
}
