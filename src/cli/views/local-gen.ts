/**
 * How `gen --backend local` events read for a person: which Python and GPU, the memory mode and
 * why, the model loading, and the denoising step of the image in flight (appended to the engine's
 * progress line). With --json the CLI writes the events themselves (type `gen.local.*`).
 */
import type { Reporter } from "../reporter.js";
import type { LocalRunEvent } from "../../generation/local/backend-setup.js";

const gib = (mib: number): string => `${(mib / 1024).toFixed(1)} GiB`;

/** NDJSON: every event except the child's raw log lines (tqdm bars would flood the stream). */
export function jsonWorthy(event: LocalRunEvent): boolean {
  return event.type !== "gen.local.log";
}

/** One human line per event; returns the step suffix for the progress line, if any. */
export function renderLocalEvent(reporter: Reporter, event: LocalRunEvent): string | undefined {
  switch (event.type) {
    case "gen.local.python":
      reporter.debug(`Python: ${event.python} (${event.from})`);
      return undefined;
    case "gen.local.gpu":
      if (event.gpu) reporter.info(`GPU ${event.gpu.index}: ${event.gpu.name}, ${gib(event.gpu.freeMiB)} of ${gib(event.gpu.totalMiB)} free.`);
      else reporter.warn(`cannot read free GPU memory (${event.error ?? "nvidia-smi failed"}); pass --offload/--quantize to choose the memory mode.`);
      return undefined;
    case "gen.local.memory":
      reporter.info(`Memory mode: offload ${event.offload}, quantize ${event.quantize} (${event.reason}).`);
      return undefined;
    case "gen.local.loading":
      reporter.info(event.message);
      return undefined;
    case "gen.local.ready":
      reporter.success(`Model ${event.model} ready on ${event.device}.`);
      return undefined;
    case "gen.local.step":
      return `${event.key} step ${event.step}/${event.total}`;
    case "gen.local.log":
      reporter.debug(`  python: ${event.line}`);
      return undefined;
  }
}
