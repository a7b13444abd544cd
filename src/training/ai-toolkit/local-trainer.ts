/**
 * `--backend local`: the Trainer that runs ostris/ai-toolkit on this machine.
 * Success is exit 0 AND the final `<name>.safetensors` with the planned step in its metadata;
 * exit 0 alone proves nothing (ostris/ai-toolkit run.py). Resume is ai-toolkit's own (section
 * 4): we never delete the output folder, and a finished training is not run again.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { InterruptedError, JobFailedError } from "../../errors.js";
import type { GlobalSettings } from "../../settings/settings.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import type { TrainPlan } from "../plan.js";
import type { TrainDescription, TrainEvent, TrainResult, Trainer } from "../types.js";
import { buildChildEnv, buildJobConfig, buildRunCommand, renderJobYaml } from "./config.js";
import { failureError, noOutputError } from "./failure.js";
import { assertPreflight, preflightAiToolkit, type AiToolkitLocation, type AiToolkitPreflight } from "./locate.js";
import { inspectOutput } from "./output.js";
import { runAiToolkit } from "./runner.js";

export interface LocalTrainerOptions {
  settings: Pick<GlobalSettings, "aiToolkitDir" | "aiToolkitPython">;
  env: Record<string, string | undefined>;
  /** The child already received the user's Ctrl-C from the terminal (same process group). */
  childSharesTerminal?: boolean;
}

export class LocalAiToolkitTrainer implements Trainer {
  readonly id = "local";
  private location: AiToolkitLocation | undefined;

  constructor(private readonly options: LocalTrainerOptions) {}

  async preflight(options: { gpuIds?: string; signal?: AbortSignal } = {}): Promise<AiToolkitPreflight> {
    const report = await preflightAiToolkit({ settings: this.options.settings, env: this.options.env, ...options });
    this.location = report.toolkit;
    return report;
  }

  describe(plan: TrainPlan): TrainDescription {
    const notes: string[] = [];
    const toolkit = this.location ?? {
      dir: this.options.settings.aiToolkitDir.value ?? "<AI_TOOLKIT_DIR>",
      runPy: join(this.options.settings.aiToolkitDir.value ?? "<AI_TOOLKIT_DIR>", "run.py"),
      python: this.options.settings.aiToolkitPython.value ?? join(this.options.settings.aiToolkitDir.value ?? "<AI_TOOLKIT_DIR>", "venv", "bin", "python"),
      pythonFrom: "",
    };
    if (!this.location) notes.push("ai-toolkit preflight did not pass: the command shows the expected paths");
    const command = buildRunCommand(plan, toolkit);
    const env = buildChildEnv(plan, {});
    const yaml = renderJobYaml(plan);
    return {
      files: [{ path: plan.paths.jobConfig, text: yaml }],
      command: [command.file, ...command.args],
      json: { config: buildJobConfig(plan), configPath: plan.paths.jobConfig, command: [command.file, ...command.args], cwd: command.cwd, env },
      notes: [...notes, `cwd: ${command.cwd}`, `env: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")}${this.options.env.HF_TOKEN ? " HF_TOKEN=<set>" : ""}`],
    };
  }

  async train(plan: TrainPlan, { signal, onEvent }: { signal: AbortSignal; onEvent: (event: TrainEvent) => void }): Promise<TrainResult> {
    if (!this.location) assertPreflight(await this.preflight({ ...(plan.gpuIds !== undefined ? { gpuIds: plan.gpuIds } : {}), signal }));
    const toolkit = this.location as AiToolkitLocation;

    const before = await inspectOutput(plan.paths.outputDir, plan.name);
    if (before.finalLora && (before.finalLora.step ?? 0) >= plan.steps) {
      // Re-running a finished job would reload everything and redo the final samples (ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py).
      return { loraPath: before.finalLora.path, step: before.finalLora.step ?? plan.steps, alreadyFinished: true, samples: before.samples.map((s) => s.path) };
    }

    await mkdir(plan.paths.outputDir, { recursive: true });
    await writeFileAtomic(plan.paths.jobConfig, renderJobYaml(plan));
    const command = buildRunCommand(plan, toolkit);
    const last = before.checkpoints.at(-1);
    onEvent({ type: "start", command: [command.file, ...command.args], ...(last ? { resumeFromStep: last.step, resumeFrom: last.path } : {}) });

    const outcome = await runAiToolkit({
      ...command,
      env: buildChildEnv(plan, this.options.env),
      jobName: plan.name,
      samplesDir: join(plan.paths.outputDir, "samples"),
      signal,
      onEvent,
      // Only a Ctrl-C typed in our terminal also reached the child; SIGTERM (or an abort from
      // elsewhere) did not, so then SIGINT goes out at once.
      interruptGraceMs: (reason) => (this.options.childSharesTerminal && /SIGINT/.test(reason instanceof Error ? reason.message : String(reason)) ? 5_000 : 0),
    });

    const after = await inspectOutput(plan.paths.outputDir, plan.name);
    if (outcome.interrupted) {
      const kept = after.checkpoints.at(-1);
      throw new InterruptedError("training stopped (Ctrl-C)", {
        details: kept ? [`last checkpoint kept: step ${kept.step} (${kept.path})`] : ["no checkpoint was saved yet"],
        hint: "re-run the same command to resume from the last checkpoint",
      });
    }
    if (outcome.spawnError) {
      throw new JobFailedError(`could not start ai-toolkit: ${outcome.spawnError}`, { code: "E_TRAIN_SPAWN", hint: "check AI_TOOLKIT_PYTHON / the checkout's venv (headshot doctor)" });
    }
    if (outcome.exitCode !== 0) throw failureError(plan, outcome, this.options.env);
    if (!after.finalLora) throw noOutputError(plan, outcome.lines, `${plan.paths.finalLora} is missing`);
    if (after.finalLora.step !== plan.steps) {
      throw noOutputError(plan, outcome.lines, `the final LoRA says step ${after.finalLora.step ?? "unknown"}, not ${plan.steps}`);
    }
    return {
      loraPath: after.finalLora.path,
      step: after.finalLora.step,
      alreadyFinished: false,
      ...(outcome.resumedFrom?.step !== undefined ? { resumedFromStep: outcome.resumedFrom.step } : {}),
      samples: outcome.samples,
    };
  }
}
