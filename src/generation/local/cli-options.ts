/**
 * The `gen` flags that only steer the local GPU (--ai-toolkit, --gpu, --offload, --quantize): their
 * checks before anything runs, and their place in the printed resume command.
 */
import { UsageError } from "../../errors.js";
import type { Flag } from "../../util/shell-quote.js";
import type { OffloadMode, QuantizeMode } from "./protocol.js";

export interface LocalFlags {
  backend: string;
  aiToolkit?: string | undefined;
  gpu?: string | undefined;
  offload?: OffloadMode | undefined;
  quantize?: QuantizeMode | undefined;
}

const LOCAL_ONLY = [
  ["aiToolkit", "--ai-toolkit"],
  ["gpu", "--gpu"],
  ["offload", "--offload"],
  ["quantize", "--quantize"],
] as const;

/** Elsewhere these flags would be ignored silently: say so instead (exit 2). */
export function checkLocalFlags(options: LocalFlags): void {
  const given = LOCAL_ONLY.filter(([key]) => options[key] !== undefined).map(([, flag]) => flag);
  if (given.length > 0 && options.backend !== "local") {
    throw new UsageError(`${given.join(", ")} only appl${given.length === 1 ? "ies" : "y"} to --backend local`, {
      code: "E_GEN_LOCAL_FLAG",
      hint: `add --backend local to generate on this computer's GPU, or drop ${given.join(" and ")}`,
    });
  }
  // Quantized weights are not combined with sequential offload (memory-mode.ts forcedMemoryMode);
  // checked here so the mistake costs nothing (no manifest, no model load).
  if (options.offload === "sequential" && options.quantize !== undefined && options.quantize !== "none") {
    throw new UsageError(`--offload sequential cannot be combined with --quantize ${options.quantize}`, {
      code: "E_MEMORY_MODE",
      hint: `use --offload sequential alone (least GPU memory), or --offload model --quantize ${options.quantize}`,
    });
  }
}

/** The local flags as given, for the "re-run to resume" command. */
export function localResumeFlags(options: LocalFlags): Flag[] {
  return LOCAL_ONLY.map(([key, flag]): Flag => [flag, options[key]]);
}
