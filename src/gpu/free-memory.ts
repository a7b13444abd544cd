/**
 * Free GPU memory from nvidia-smi, for chooseMemoryMode. Missing nvidia-smi is not an error here
 * (the Python side reports a missing GPU with a precise message); it just means "unknown".
 */
import { execa } from "execa";

/** Parses `nvidia-smi --query-gpu=index,memory.free --format=csv,noheader,nounits`. */
export function parseNvidiaSmiFree(stdout: string): Map<number, number> {
  const free = new Map<number, number>();
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(line);
    if (match) free.set(Number(match[1]), Number(match[2]));
  }
  return free;
}

/**
 * Free MiB on the GPU headshot will use: `gpu` is the CUDA_VISIBLE_DEVICES value (first entry used),
 * else GPU 0. Returns undefined when nvidia-smi is missing, fails or does not list that GPU.
 */
export async function queryFreeMiB(options: { gpu?: string; nvidiaSmi?: string; signal?: AbortSignal } = {}): Promise<number | undefined> {
  const result = await execa(options.nvidiaSmi ?? "nvidia-smi", ["--query-gpu=index,memory.free", "--format=csv,noheader,nounits"], {
    reject: false,
    timeout: 15_000,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  if (result.failed || typeof result.stdout !== "string") return undefined;
  const free = parseNvidiaSmiFree(result.stdout);
  const first = options.gpu?.split(",")[0]?.trim();
  const index = first && /^\d+$/.test(first) ? Number(first) : 0;
  return free.get(index);
}
