/**
 * Settings, resolved with one precedence everywhere (house style: np's getOptions):
 * flags > environment > project config (headshot.config.yaml) > preset > defaults.
 * Every resolved value remembers where it came from so `doctor` and errors can say so.
 * The Replicate token is only ever read from the environment; it is never written anywhere.
 */
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { ProjectConfig } from "./project-config.js";

export type SettingSource = "flag" | "env" | "config" | "preset" | "default";

export interface Resolved<T> {
  value: T;
  source: SettingSource;
  /** The env variable, file path or flag name the value came from. */
  from?: string;
}

export interface Layer<T> {
  source: SettingSource;
  value: T | undefined;
  from?: string;
}

/** The first layer that has a value wins; layers are listed from highest precedence to lowest. */
export function pick<T>(layers: ReadonlyArray<Layer<T>>, fallback: Resolved<T>): Resolved<T> {
  for (const layer of layers) {
    if (layer.value !== undefined) return { value: layer.value, source: layer.source, ...(layer.from ? { from: layer.from } : {}) };
  }
  return fallback;
}

export type Env = Record<string, string | undefined>;

/** Environment variables headshot reads, documented in README. */
export const ENV = {
  home: "HEADSHOT_HOME",
  out: "HEADSHOT_OUT",
  backend: "HEADSHOT_BACKEND",
  concurrency: "HEADSHOT_CONCURRENCY",
  presetPath: "HEADSHOT_PRESET_PATH",
  replicateToken: "REPLICATE_API_TOKEN",
  replicateBaseUrl: "REPLICATE_BASE_URL",
  aiToolkitDir: "AI_TOOLKIT_DIR",
  aiToolkitPython: "AI_TOOLKIT_PYTHON",
} as const;

export interface GlobalSettingsInput {
  cwd: string;
  env: Env;
  platform?: NodeJS.Platform;
  projectConfig?: { path: string; config: ProjectConfig } | undefined;
  flags?: { home?: string; aiToolkit?: string; out?: string };
}

export interface GlobalSettings {
  cwd: string;
  home: Resolved<string>;
  aiToolkitDir: Resolved<string | undefined>;
  aiToolkitPython: Resolved<string | undefined>;
  replicateBaseUrl: Resolved<string | undefined>;
  /** True when REPLICATE_API_TOKEN is set; the value itself stays in env, read by the client only. */
  replicateTokenPresent: boolean;
  /** Folders searched for user presets, in order, before the built-in ones. */
  presetDirs: string[];
  projectConfigPath: string | undefined;
  projectConfig: ProjectConfig | undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** The platform's user data dir (what env-paths computes), without importing it on the --help path. */
export function defaultHome(env: Env, platform: NodeJS.Platform = process.platform): string {
  const home = env.HOME ?? homedir();
  if (platform === "darwin") return join(home, "Library", "Application Support", "headshot");
  if (platform === "win32") return join(env.LOCALAPPDATA ?? join(home, "AppData", "Local"), "headshot", "Data");
  return join(nonEmpty(env.XDG_DATA_HOME) ?? join(home, ".local", "share"), "headshot");
}

function absolute(cwd: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return isAbsolute(path) ? path : resolve(cwd, path);
}

export function resolveGlobalSettings(input: GlobalSettingsInput): GlobalSettings {
  const { cwd, env, projectConfig } = input;
  const cfg = projectConfig?.config;
  const cfgFrom = projectConfig?.path;
  const cfgDir = cfgFrom ? resolve(cfgFrom, "..") : cwd;
  const home = pick<string>(
    [
      { source: "flag", value: absolute(cwd, input.flags?.home), from: "--home" },
      { source: "env", value: absolute(cwd, nonEmpty(env[ENV.home])), from: ENV.home },
      { source: "config", value: absolute(cfgDir, cfg?.home), ...(cfgFrom ? { from: cfgFrom } : {}) },
    ],
    { value: defaultHome(env, input.platform), source: "default" },
  );
  const aiToolkitDir = pick<string | undefined>(
    [
      { source: "flag", value: absolute(cwd, input.flags?.aiToolkit), from: "--ai-toolkit" },
      { source: "env", value: absolute(cwd, nonEmpty(env[ENV.aiToolkitDir])), from: ENV.aiToolkitDir },
      { source: "config", value: absolute(cfgDir, cfg?.aiToolkit?.dir), ...(cfgFrom ? { from: cfgFrom } : {}) },
    ],
    { value: undefined, source: "default" },
  );
  const aiToolkitPython = pick<string | undefined>(
    [
      { source: "env", value: nonEmpty(env[ENV.aiToolkitPython]), from: ENV.aiToolkitPython },
      { source: "config", value: cfg?.aiToolkit?.python, ...(cfgFrom ? { from: cfgFrom } : {}) },
    ],
    { value: undefined, source: "default" },
  );
  const replicateBaseUrl = pick<string | undefined>(
    [
      { source: "env", value: nonEmpty(env[ENV.replicateBaseUrl]), from: ENV.replicateBaseUrl },
      { source: "config", value: cfg?.replicate?.baseUrl, ...(cfgFrom ? { from: cfgFrom } : {}) },
    ],
    { value: undefined, source: "default" },
  );
  const envPresetDirs = (nonEmpty(env[ENV.presetPath]) ?? "")
    .split(process.platform === "win32" ? ";" : ":")
    .filter(Boolean)
    .map((p) => absolute(cwd, p) as string);
  const presetDirs = [
    ...envPresetDirs,
    ...(cfg?.presets ?? []).map((p) => absolute(cfgDir, p) as string),
    resolve(cwd, "presets"),
  ];
  return {
    cwd,
    home,
    aiToolkitDir,
    aiToolkitPython,
    replicateBaseUrl,
    replicateTokenPresent: nonEmpty(env[ENV.replicateToken]) !== undefined,
    presetDirs: [...new Set(presetDirs)],
    projectConfigPath: cfgFrom,
    projectConfig: cfg,
  };
}

/** Describes where a value came from, for doctor and --verbose. */
export function describeSource(resolved: Resolved<unknown>): string {
  switch (resolved.source) {
    case "flag":
      return `from ${resolved.from ?? "a flag"}`;
    case "env":
      return `from $${resolved.from ?? "environment"}`;
    case "config":
      return `from ${resolved.from ?? "headshot.config.yaml"}`;
    case "preset":
      return `from the preset`;
    default:
      return "default";
  }
}
