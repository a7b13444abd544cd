/**
 * Turns a failed ai-toolkit run (exit code + the last lines of its output) into a typed error
 * with the exact fix. Pure. Patterns: ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py "Errors" and ostris/ai-toolkit issues
 * (ostris/ai-toolkit issues #574 load-time OOM, #676/#36 gated models, #439 no images, #437 version mismatch).
 */
import { DependencyError, JobFailedError, type HeadshotError } from "../../errors.js";
import type { TrainPlan } from "../plan.js";

export type FailureKind = "oom" | "gated" | "no-images" | "version" | "crash" | "no-output";

const OOM = /CUDA out of memory|OutOfMemoryError|OOM during training step|CUBLAS_STATUS_ALLOC_FAILED/i;
const GATED = /GatedRepoError|Cannot access gated repo|401 Client Error|403 Client Error|is restricted\. You must have access|does not appear to have a file named config\.json/i;
const NO_IMAGES = /no images found in/;
const VERSION = /Unknown process type|Unknown job type|unexpected keyword argument/;

export function classifyOutput(lines: readonly string[]): FailureKind {
  const text = lines.join("\n");
  if (OOM.test(text)) return "oom";
  if (GATED.test(text)) return "gated";
  if (NO_IMAGES.test(text)) return "no-images";
  if (VERSION.test(text)) return "version";
  return "crash";
}

/**
 * The lines worth showing: from the final failure on ("Error running job" on stdout and the
 * traceback on stderr arrive through two pipes, in either order), at most `max`.
 */
export function errorExcerpt(lines: readonly string[], max = 20): string[] {
  const lastIndex = (re: RegExp): number => {
    for (let i = lines.length - 1; i >= 0; i--) if (re.test(lines[i] ?? "")) return i;
    return -1;
  };
  const starts = [lastIndex(/^Error running job:/), lastIndex(/^Traceback \(most recent call last\)/)].filter((i) => i >= 0);
  const from = starts.length > 0 ? Math.min(...starts) : Math.max(0, lines.length - max);
  const picked = lines.slice(from);
  if (picked.length <= max) return picked;
  // Too long: keep the one-line summary and the end of the traceback, where the exception is.
  const summary = picked.find((l) => /^Error running job:/.test(l));
  const tail = picked.slice(-(max - (summary ? 2 : 1)));
  return [...(summary && !tail.includes(summary) ? [summary] : []), "…", ...tail];
}

/** The one switch most likely to make the job fit, in the order that costs least quality. */
export function oomSuggestion(plan: TrainPlan): string {
  const maxRes = Math.max(...plan.resolutions);
  if (!plan.lowVram) return "--low-vram (quantize on the CPU; slower, needs less GPU memory)";
  if (!plan.quantize) return "--quantize (8-bit transformer and text encoder)";
  if (plan.rank > 16) return `--rank 16 (now ${plan.rank})`;
  if (maxRes > 768) return `--resolution ${plan.resolutions.filter((r) => r <= 768).join(",") || "512"} (drops ${maxRes})`;
  if (plan.recipe.id !== "flux2-klein-4b") return "--model flux2-klein-4b (the smallest base model), or --backend replicate";
  return "--backend replicate (train on a cloud GPU)";
}

export function failureError(
  plan: TrainPlan,
  outcome: { exitCode: number | undefined; signal: string | undefined; lines: readonly string[] },
  env: Record<string, string | undefined>,
): HeadshotError {
  const kind = classifyOutput(outcome.lines);
  const excerpt = errorExcerpt(outcome.lines);
  const how = outcome.signal ? `was killed by ${outcome.signal}` : `exited with code ${outcome.exitCode ?? "?"}`;
  const logLine = `full log: ${plan.paths.log}`;
  switch (kind) {
    case "oom": {
      const phase = outcome.lines.some((l) => /OOM during training step/.test(l)) ? "during training" : "while loading the model";
      return new JobFailedError(`training ran out of GPU memory ${phase}`, {
        code: "E_TRAIN_OOM",
        details: [...excerpt, logLine, `memory settings: ${plan.memoryReason}`],
        hint: `re-run the same command with ${oomSuggestion(plan)}; close other programs using the GPU (nvidia-smi shows them). Completed checkpoints are kept and training resumes from the last one.`,
      });
    }
    case "gated": {
      const token = env.HF_TOKEN ? "HF_TOKEN is set but that account has no access" : "HF_TOKEN is not set";
      return new DependencyError(`no access to the base model ${plan.recipe.model.name_or_path} on Hugging Face (${token})`, {
        code: "E_HF_GATED",
        details: [...excerpt.slice(-6), logLine],
        hint: `accept the licence at ${plan.recipe.licenceUrl} while logged in, create a read token at https://huggingface.co/settings/tokens, then export HF_TOKEN=<token> (or run huggingface-cli login) and re-run`,
      });
    }
    case "no-images":
      return new JobFailedError("ai-toolkit found no images in the prepared dataset", {
        code: "E_TRAIN_NO_IMAGES",
        details: [...excerpt, logLine],
        hint: `check ${plan.paths.datasetDir} (jpg, jpeg, png or webp files), or re-run with --restart to prepare it again`,
      });
    case "version":
      return new JobFailedError(`ai-toolkit ${how}: it does not understand the job config`, {
        code: "E_AI_TOOLKIT_VERSION",
        details: [...excerpt, logLine],
        hint: "update the checkout (git pull && venv/bin/pip install -r requirements.txt); headshot targets ai-toolkit 0.12.x",
      });
    default:
      if (outcome.signal === "SIGKILL") {
        return new JobFailedError(`ai-toolkit ${how}`, {
          code: "E_TRAIN_KILLED",
          details: [...excerpt, logLine],
          // Nothing from Python on SIGKILL (ostris/ai-toolkit run.py); on Linux that is usually the kernel's OOM killer.
          hint: "this is usually the system running out of RAM (the kernel's OOM killer; see `dmesg`): close other programs or add swap, then re-run the same command to resume",
        });
      }
      return new JobFailedError(`ai-toolkit ${how}`, {
        code: "E_TRAIN_CRASHED",
        details: [...excerpt, logLine],
        hint: "the lines above are the end of ai-toolkit's output; fix the cause and re-run the same command to resume from the last checkpoint",
      });
  }
}

export function noOutputError(plan: TrainPlan, lines: readonly string[], found: string): HeadshotError {
  return new JobFailedError(`ai-toolkit exited 0 but ${found}`, {
    code: "E_TRAIN_NO_OUTPUT",
    details: [...errorExcerpt(lines, 12), `full log: ${plan.paths.log}`],
    // Exit 0 proves nothing: run.py exits 0 after Ctrl-C and with -r (ostris/ai-toolkit run.py).
    hint: "the trainer stopped before writing the final LoRA; re-run the same command to resume, and check the log if it happens again",
  });
}
