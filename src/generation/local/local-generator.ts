/**
 * `headshot gen --backend local`: the batch engine's view of the GPU. One Python process per batch
 * (the model loads once, 30+ GB), fed one job at a time (GPU concurrency 1), speaking the line
 * protocol of protocol.ts. Everything the engine owns (manifest, resume, progress, exit codes) stays
 * on the Node side; this module only turns jobs into image files or typed errors: it picks the
 * memory mode and starts the process, which local-session.ts then runs.
 */
import { InterruptedError } from "../../errors.js";
import { queryFreeMiB } from "../../gpu/free-memory.js";
import { chooseMemoryMode, forcedMemoryMode, type MemoryMode } from "./memory-mode.js";
import { LOCAL_MODELS } from "./models.js";
import type { OffloadMode, QuantizeMode, ReadyMessage } from "./protocol.js";
import { generateScriptPath } from "./script-path.js";
import { Session, type GenerateOptions, type LocalImage, type LocalJob, type SessionOptions } from "./local-session.js";

export type { GenerateOptions, LocalGeneratorEvent, LocalImage, LocalJob } from "./local-session.js";

export interface LocalGeneratorOptions extends SessionOptions {
  /** The identity's LoRA (.safetensors). */
  lora: string;
  /** Hugging Face id or local folder; defaults to the model's base (models.ts). */
  base?: string;
  /**
   * Free GPU memory in MiB; queried with nvidia-smi when absent and no mode is forced. `null`: the
   * caller already asked and it is unknown (no nvidia-smi), so do not ask again.
   */
  freeMiB?: number | null;
  /** Force a memory mode instead of chooseMemoryMode (e.g. from `--offload sequential`). */
  offload?: OffloadMode;
  quantize?: QuantizeMode;
  device?: string;
  /** The Python program; tests point this at a fake speaking the same protocol. */
  script?: string;
  nvidiaSmi?: string;
}

export interface LocalGenerator {
  readonly ready: ReadyMessage;
  readonly memory: MemoryMode;
  generate(job: LocalJob, options?: GenerateOptions): Promise<LocalImage>;
  close(): Promise<void>;
}

/** Starts the Python process and resolves once the model is loaded and the LoRA applied. */
export async function openLocalGenerator(options: LocalGeneratorOptions): Promise<LocalGenerator> {
  if (options.signal?.aborted) throw new InterruptedError();
  const info = LOCAL_MODELS[options.model];
  const forced = options.offload !== undefined || options.quantize !== undefined;
  const freeMiB =
    options.freeMiB === null
      ? undefined
      : (options.freeMiB ?? (forced ? undefined : await queryFreeMiB({ gpu: options.gpu, nvidiaSmi: options.nvidiaSmi, signal: options.signal })));
  if (options.signal?.aborted) throw new InterruptedError();
  const chosen = chooseMemoryMode(options.model, freeMiB);
  const memory = forced ? forcedMemoryMode(options.offload, options.quantize, chosen) : chosen;
  options.onEvent?.({ type: "memory", freeMiB, ...memory });

  const base = options.base ?? info.defaultBase;
  const args = [
    options.script ?? generateScriptPath(),
    "--model", options.model,
    "--base", base,
    "--lora", options.lora,
    "--offload", memory.offload,
    "--quantize", memory.quantize,
    "--device", options.device ?? "cuda",
  ];
  const session = new Session(options, memory, base);
  session.start(args);
  const ready = await session.waitReady();
  return {
    ready,
    memory,
    generate: (job, generateOptions) => session.enqueue(job, generateOptions ?? {}),
    close: () => session.close(),
  };
}
