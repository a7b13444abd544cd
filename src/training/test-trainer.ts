/**
 * `--backend test` for training: a free placeholder "training" that needs no GPU, no token and no
 * ai-toolkit, so `headshot batch team.yaml --backend test` can try a whole workflow. It writes a
 * tiny but valid safetensors file with no tensors whose metadata says it is a placeholder; the
 * batch registers such identities under a separate HEADSHOT_HOME folder (`<home>/test-mode/`) and
 * marks them `placeholder: true`, so a real identity is never replaced by one.
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { InterruptedError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import type { TrainPlan } from "./plan.js";
import type { PreflightReport, TrainDescription, TrainEvent, Trainer, TrainResult } from "./types.js";

/** A safetensors file (8-byte little-endian header length + JSON header) with metadata only. */
export function placeholderSafetensors(plan: Pick<TrainPlan, "name" | "steps" | "trigger">): Buffer {
  const header = JSON.stringify({
    __metadata__: { headshot_placeholder: "true", name: plan.name, trigger: plan.trigger, training_info: JSON.stringify({ step: plan.steps, epoch: 0 }) },
  });
  const json = Buffer.from(header, "utf8");
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json]);
}

export class TestTrainer implements Trainer {
  readonly id = "test";

  preflight(): Promise<PreflightReport> {
    return Promise.resolve({ ok: true, checks: [{ id: "test-backend", ok: true, detail: "placeholder training: no GPU, token or ai-toolkit needed" }] });
  }

  describe(plan: TrainPlan): TrainDescription {
    return {
      files: [],
      json: { backend: "test", placeholder: true, lora: plan.paths.finalLora },
      notes: ["--backend test trains nothing: it registers a PLACEHOLDER identity (no LoRA weights) for trying a workflow"],
    };
  }

  async train(plan: TrainPlan, options: { signal: AbortSignal; onEvent: (event: TrainEvent) => void }): Promise<TrainResult> {
    if (options.signal.aborted) throw new InterruptedError("Interrupted before the placeholder training.");
    // No progress event: nothing is trained, and a "1500/1500" bar would say otherwise (issue 15).
    options.onEvent({ type: "start", command: ["(test backend: no process)"] });
    await mkdir(dirname(plan.paths.finalLora), { recursive: true });
    await writeFileAtomic(plan.paths.finalLora, placeholderSafetensors(plan));
    return { loraPath: plan.paths.finalLora, step: plan.steps, alreadyFinished: false, samples: [] };
  }
}
