/**
 * The defaults of `gen` and `train` through the one precedence of settings.ts (flags > environment
 * > project config > preset > defaults), so `--verbose` can say where each value came from instead
 * of `flag ?? config ?? DEFAULT` chains that forget it (house style: np's getOptions,
 * https://github.com/sindresorhus/np/blob/main/source/options.js).
 */
import { dirname, resolve } from "node:path";
import { describeSource, pick, type Env, type GlobalSettings, type Resolved } from "./settings.js";

type ConfigPlace = Pick<GlobalSettings, "projectConfig" | "projectConfigPath">;

/** The config layer: its value (if any) and the file it came from. */
function fromConfig<T>(settings: ConfigPlace, value: T | undefined): { source: "config"; value: T | undefined; from?: string } {
  return { source: "config", value, ...(settings.projectConfigPath ? { from: settings.projectConfigPath } : {}) };
}

export interface GenDefaultsInput {
  count?: number | undefined;
  /** The image count `--until` plans for (it wins over --count). */
  untilCount?: number | undefined;
  model?: string | undefined;
  format?: "png" | "jpg" | "webp" | undefined;
  concurrency?: number | undefined;
  backend: string;
  /** False when `--backend` was not typed (commander filled in its default). */
  backendFromFlag: boolean;
}

export interface GenDefaults {
  /** Undefined: the preset's generation.count. */
  count: Resolved<number | undefined>;
  /** Undefined: the preset's model. */
  model: Resolved<string | undefined>;
  format: Resolved<"png" | "jpg" | "webp" | undefined>;
  concurrency: Resolved<number>;
  backend: Resolved<string>;
}

export function resolveGenDefaults(input: GenDefaultsInput, settings: ConfigPlace, defaultConcurrency: number): GenDefaults {
  const defaults = settings.projectConfig?.defaults;
  const fromPreset = { value: undefined, source: "preset" } as const;
  return {
    count: pick<number | undefined>(
      [
        { source: "flag", value: input.untilCount, from: "--until" },
        { source: "flag", value: input.count, from: "--count" },
        fromConfig(settings, defaults?.count),
      ],
      fromPreset,
    ),
    model: pick<string | undefined>([{ source: "flag", value: input.model, from: "--model" }, fromConfig(settings, defaults?.model)], fromPreset),
    format: pick<"png" | "jpg" | "webp" | undefined>([{ source: "flag", value: input.format, from: "--format" }, fromConfig(settings, defaults?.format)], fromPreset),
    // One GPU makes one image at a time; remote backends run `concurrency` predictions at once.
    concurrency:
      input.backend === "local"
        ? { value: 1, source: "default", from: "--backend local" }
        : pick<number>([{ source: "flag", value: input.concurrency, from: "--concurrency" }, fromConfig(settings, defaults?.concurrency)], { value: defaultConcurrency, source: "default" }),
    backend: input.backendFromFlag ? { value: input.backend, source: "flag", from: "--backend" } : { value: input.backend, source: "default" },
  };
}

/** train's backend: --backend, then $HEADSHOT_BACKEND, then the project config, then local. */
export function resolveTrainBackend(flag: string | undefined, env: Env, settings: ConfigPlace): Resolved<string> {
  return pick<string>(
    [{ source: "flag", value: flag, from: "--backend" }, { source: "env", value: env.HEADSHOT_BACKEND || undefined, from: "HEADSHOT_BACKEND" }, fromConfig(settings, settings.projectConfig?.backend)],
    { value: "local", source: "default" },
  );
}

/**
 * gen's output folder: --out, then the project config's `out:` (relative to the config file, so a
 * config in a parent folder means the same folder from anywhere below it), else undefined:
 * `headshots/<identity>/<preset>` under the working folder.
 */
export function resolveGenOut(flag: string | undefined, settings: ConfigPlace): Resolved<string | undefined> {
  const configured = settings.projectConfig?.out;
  const fromFile = configured && settings.projectConfigPath ? resolve(dirname(settings.projectConfigPath), configured) : undefined;
  return pick<string | undefined>([{ source: "flag", value: flag, from: "--out" }, fromConfig(settings, fromFile)], { value: undefined, source: "default" });
}

/** One `--verbose` line per setting: `count: 4 (from --count)`, `model: from the preset`. */
export function describeSettings(settings: Record<string, Resolved<unknown>>): string[] {
  return Object.entries(settings).map(([name, r]) => (r.value === undefined ? `${name}: ${describeSource(r)}` : `${name}: ${String(r.value)} (${describeSource(r)})`));
}
