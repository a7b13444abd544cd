/**
 * Turns what the Python generator reports (an error line, or an exit without one) into typed errors
 * whose hint names the exact fix. Pure, so every message can be tested without a process.
 */
import { DependencyError, InterruptedError, JobFailedError, type HeadshotError } from "../../errors.js";
import type { MemoryMode } from "./memory-mode.js";
import type { ErrorMessage, LocalModelId } from "./protocol.js";
import type { ExitInfo } from "./python-process.js";

export interface FailureContext {
  model: LocalModelId;
  base: string;
  memory: MemoryMode;
  stderr: string[];
  python?: string;
  job?: { id: string; width: number; height: number };
}

/** The same advice training gives for CUDA OOM, with the switch that fixes it for generation. */
export function oomHint(memory: MemoryMode): string {
  const steps: string[] = [];
  if (memory.offload !== "sequential") steps.push("run with `--offload sequential` (slowest, needs the least GPU memory)");
  if (memory.quantize !== "4bit" && memory.offload !== "sequential") steps.push("or `--quantize 4bit`");
  steps.push("or generate at a lower resolution");
  return `Close other programs using the GPU (check \`nvidia-smi\`), then ${steps.join(", ")}.`;
}

const VENV_HINT =
  "Run inside ai-toolkit's venv: set AI_TOOLKIT_PYTHON to its python (for example ~/ai-toolkit/venv/bin/python), which has torch, diffusers and CUDA.";

function tail(stderr: string[], lines = 15): string[] {
  return stderr.slice(-lines);
}

export function explainFailure(message: ErrorMessage, context: FailureContext): HeadshotError {
  const where = context.job ? ` for ${context.job.id} (${context.job.width}x${context.job.height})` : ` while loading ${context.model}`;
  switch (message.code) {
    case "oom":
      return new JobFailedError(`GPU out of memory${where}.`, {
        code: "E_LOCAL_GEN_OOM",
        hint: oomHint(context.memory),
        details: [message.message, `memory mode: offload ${context.memory.offload}, quantize ${context.memory.quantize} (${context.memory.reason})`],
      });
    case "dependency":
      return new DependencyError(`The local generator cannot run: ${message.message}`, {
        code: "E_LOCAL_GEN_DEPENDENCY",
        hint: VENV_HINT,
        details: tail(context.stderr),
      });
    case "model_access":
      return new DependencyError(`Cannot download or open the base model ${context.base}.`, {
        code: "E_MODEL_ACCESS",
        hint: `Accept the model's licence at https://huggingface.co/${context.base} and set HF_TOKEN to a read token (or pre-download it with \`hf download ${context.base}\`).`,
        details: [message.message],
      });
    case "lora":
      return new JobFailedError(`The identity's LoRA cannot be applied to ${context.model}: ${message.message}`, {
        code: "E_LORA_INVALID",
        hint: "Check that the identity was trained for this model (`headshot identity show <name>`), or retrain it with `headshot train`.",
        details: tail(context.stderr, 8),
      });
    case "bad_job":
      return new JobFailedError(`The local generator rejected a job${where}: ${message.message}`, {
        code: "E_LOCAL_GEN_BAD_JOB",
        hint: "This is probably a bug in headshot; please report it with the command you ran.",
      });
    case "internal":
      return new JobFailedError(`Local generation failed${where}: ${message.message}`, {
        code: "E_LOCAL_GEN_FAILED",
        hint: "The Python traceback is in the details; re-run the same command to resume the batch.",
        details: tail(context.stderr),
      });
  }
}

const MISSING_MODULE = /No module named '?(torch|diffusers|safetensors|transformers|accelerate|peft|bitsandbytes)\b/;

/** The child exited without (or after) an error line of its own. */
export function explainExit(
  exit: ExitInfo,
  context: FailureContext & { duringJob: { id: string; width: number; height: number } | undefined; loading: boolean },
): HeadshotError {
  if (exit.spawnError) {
    return new DependencyError(`Cannot start Python (${context.python ?? "python"}): ${exit.spawnError}.`, {
      code: "E_PYTHON_NOT_FOUND",
      hint: VENV_HINT,
    });
  }
  const missing = context.stderr.map((line) => MISSING_MODULE.exec(line)).find(Boolean);
  if (missing) {
    return new DependencyError(`Python module ${missing[1]} is missing in ${context.python ?? "this Python"}.`, {
      code: "E_LOCAL_GEN_DEPENDENCY",
      hint: VENV_HINT,
      details: tail(context.stderr),
    });
  }
  if (exit.signal === "SIGINT" || exit.code === 130) return new InterruptedError();
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const what = context.duringJob
    ? `The local generator ${how} while generating ${context.duringJob.id}.`
    : context.loading
      ? `The local generator ${how} while loading ${context.model}.`
      : `The local generator ${how}.`;
  const hint =
    exit.signal === "SIGKILL"
      ? "SIGKILL usually means the system ran out of RAM (offloading keeps weights in RAM): close other programs or add swap, then re-run to resume."
      : "See the Python output in the details; re-run the same command to resume the batch.";
  return new JobFailedError(what, { code: "E_LOCAL_GEN_CRASHED", hint, details: tail(context.stderr) });
}
