/**
 * Picks offloading and quantization for local generation from the GPU's free memory, the way the
 * training recipes pick `low_vram` and `quantize` (hardware reports in ostris/ai-toolkit issues). Pure: the free memory
 * comes from src/gpu/free-memory.ts (nvidia-smi) or from the caller.
 *
 * Order of preference, first that fits wins (sizes from models.ts, "fits" = estimate <= free MiB):
 *   1. everything on the GPU in bf16            transformer + text encoder + other + headroom
 *   2. model CPU offload, bf16                   largest of (transformer, text encoder) + other + headroom
 *   3. model CPU offload, 8-bit weights          largest x 0.53 + other + headroom
 *   4. model CPU offload, 4-bit NF4 weights      largest x 0.28 + other + headroom
 *   5. sequential CPU offload, bf16              layer by layer: slow, but a few GB are enough
 * Model offload keeps one whole component on the GPU at a time (diffusers enable_model_cpu_offload),
 * so its peak is the largest component. Unknown free memory (no nvidia-smi) gives model offload.
 */
import { UsageError } from "../../errors.js";
import { LOCAL_MODELS } from "./models.js";
import type { LocalModelId, OffloadMode, QuantizeMode } from "./protocol.js";

export interface MemoryMode {
  offload: OffloadMode;
  quantize: QuantizeMode;
  /** Estimated peak GPU memory of the chosen mode, MiB (undefined for sequential offload). */
  estimatedMiB: number | undefined;
  /** One sentence for the user: what was chosen and why. */
  reason: string;
}

/** Bytes per weight relative to bf16, including the quantizer's scales and outlier overhead. */
export const QUANTIZE_FACTOR: Record<QuantizeMode, number> = { none: 1, "8bit": 0.53, "4bit": 0.28 };

export function chooseMemoryMode(model: LocalModelId, freeMiB: number | undefined): MemoryMode {
  const info = LOCAL_MODELS[model];
  if (freeMiB === undefined || !Number.isFinite(freeMiB)) {
    return {
      offload: "model",
      quantize: "none",
      estimatedMiB: undefined,
      reason: "free GPU memory unknown (nvidia-smi not available): using model CPU offload",
    };
  }
  const fixed = info.otherMiB + info.headroomMiB;
  const largest = Math.max(info.transformerMiB, info.textEncoderMiB);
  const candidates: Array<{ offload: OffloadMode; quantize: QuantizeMode; need: number; what: string }> = [
    { offload: "none", quantize: "none", need: info.transformerMiB + info.textEncoderMiB + fixed, what: "everything on the GPU" },
    { offload: "model", quantize: "none", need: largest + fixed, what: "model CPU offload" },
    { offload: "model", quantize: "8bit", need: Math.round(largest * QUANTIZE_FACTOR["8bit"]) + fixed, what: "model CPU offload with 8-bit weights" },
    { offload: "model", quantize: "4bit", need: Math.round(largest * QUANTIZE_FACTOR["4bit"]) + fixed, what: "model CPU offload with 4-bit weights" },
  ];
  for (const c of candidates) {
    if (c.need <= freeMiB) {
      return {
        offload: c.offload,
        quantize: c.quantize,
        estimatedMiB: c.need,
        reason: `${c.what}: needs about ${formatGiB(c.need)}, ${formatGiB(freeMiB)} free`,
      };
    }
  }
  return {
    offload: "sequential",
    quantize: "none",
    estimatedMiB: undefined,
    reason: `sequential CPU offload (slow): ${formatGiB(freeMiB)} free is too little for ${model} even with 4-bit weights`,
  };
}

/**
 * A mode the user asked for. Sequential offload already needs only a few GB, and bitsandbytes weights
 * under accelerate's per-layer hooks are not a combination diffusers documents, so the two never mix.
 */
export function forcedMemoryMode(offload: OffloadMode | undefined, quantize: QuantizeMode | undefined, chosen: MemoryMode): MemoryMode {
  const finalOffload = offload ?? chosen.offload;
  if (finalOffload === "sequential" && quantize !== undefined && quantize !== "none") {
    throw new UsageError(`--offload sequential cannot be combined with --quantize ${quantize}.`, {
      code: "E_MEMORY_MODE",
      hint: "Use `--offload sequential` alone (least GPU memory), or `--offload model --quantize " + quantize + "`.",
    });
  }
  const finalQuantize = quantize ?? (finalOffload === "sequential" ? "none" : chosen.quantize);
  return { offload: finalOffload, quantize: finalQuantize, estimatedMiB: undefined, reason: "set by the user" };
}

function formatGiB(mib: number): string {
  return `${(mib / 1024).toFixed(1)} GiB`;
}
