/**
 * From command-line options to a GenPlan: loads the preset, validates `--set` overrides, picks
 * the model, resolves seeds and the output folder. Shared by `gen --dry-run` and real runs.
 */
import { randomInt } from "node:crypto";
import { join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { IdentityWords } from "../presets/compose.js";
import { loadPreset } from "../presets/load.js";
import { checkFragment, parseAssignment } from "../presets/paths.js";
import { checkWritableDir } from "../util/writable.js";
import type { GenModel } from "./model-inputs.js";
import { buildPlan, MAX_SEED, type GenPlan } from "./plan.js";

export type GenBackend = "replicate" | "local" | "test";

export interface GenOptions {
  preset: string;
  identity?: (IdentityWords & { name: string; trainedOn?: "replicate" | "local" }) | undefined;
  count?: number | undefined;
  seed?: number | undefined;
  out?: string | undefined;
  set?: string[] | undefined;
  format?: "png" | "jpg" | "webp" | undefined;
  backend: GenBackend;
  model?: string | undefined;
  ref?: string | undefined;
  loraUrl?: string | undefined;
  concurrency: number;
}

export interface PlanContext {
  cwd: string;
  presetDirs: ReadonlyArray<string>;
  /** Seed base recorded by an earlier run of the same batch (resume keeps the same seeds). */
  recordedSeedBase?: number | undefined;
  /** Reads the seed base an earlier run recorded in the output folder (used when recordedSeedBase is unset). */
  readRecordedSeedBase?: (outDir: string) => Promise<number | undefined>;
  random?: () => number;
}

const REFERENCE_MODELS = ["flux-2-dev", "flux-2-pro", "flux-2-klein-4b"] as const;

export function chooseModel(options: Pick<GenOptions, "backend" | "model" | "ref" | "identity" | "loraUrl">): GenModel {
  if (options.backend === "local") return "local";
  if (options.backend === "test") return "test";
  if (options.ref) {
    const model = options.model ?? "flux-2-dev";
    if (!(REFERENCE_MODELS as ReadonlyArray<string>).includes(model)) {
      throw new UsageError(`--model ${model} cannot take reference images`, {
        code: "E_MODEL",
        hint: `with --ref use --model ${REFERENCE_MODELS.join(", --model ")}`,
      });
    }
    return model as GenModel;
  }
  if (options.model && options.model !== "flux-dev-lora" && options.model !== "trained-version") {
    throw new UsageError(`Unknown --model "${options.model}" for LoRA generation`, {
      code: "E_MODEL",
      hint: "use --model flux-dev-lora (or leave it out); FLUX.2 models need --ref <selfies>",
    });
  }
  if (options.identity?.trainedOn === "replicate" && !options.loraUrl && options.model !== "flux-dev-lora") return "trained-version";
  return "flux-dev-lora";
}

/**
 * Parses and validates `--set` overrides (also a batch file's `set:`, checked before anything is
 * paid for: issue 14, R6). Returns the valid assignments and one readable line per problem.
 */
export function checkOverrides(set: ReadonlyArray<string>, label = "--set"): { assignments: Array<{ path: string; value: unknown }>; problems: string[] } {
  const assignments: Array<{ path: string; value: unknown }> = [];
  const problems: string[] = [];
  for (const raw of set) {
    const parsed = parseAssignment(raw);
    const shown = raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
    if (!parsed) {
      problems.push(`${label} ${shown}: write it as key.path=value, e.g. --set lighting.setup=rembrandt`);
      continue;
    }
    const problem = checkFragment(parsed.path, parsed.value);
    if (problem) problems.push(`${label} ${shown}: ${problem.message.length > 200 ? `${problem.message.slice(0, 197)}...` : problem.message}${problem.hint ? ` (${problem.hint})` : ""}`);
    else assignments.push(parsed);
  }
  return { assignments, problems };
}

export async function preparePlan(options: GenOptions, ctx: PlanContext): Promise<GenPlan> {
  const preset = await loadPreset(options.preset, { cwd: ctx.cwd, userDirs: ctx.presetDirs });
  const { assignments, problems } = checkOverrides(options.set ?? []);
  if (options.format) assignments.push({ path: "generation.outputFormat", value: options.format });
  if (problems.length) {
    throw new UsageError(`${problems.length} invalid --set override${problems.length === 1 ? "" : "s"}`, {
      code: "E_SET_INVALID",
      details: problems,
      hint: "fields and values are listed in presets/schema.json; see them in context with: headshot presets show " + options.preset,
    });
  }
  const identityName = options.identity?.name ?? "no-identity";
  const outDir = resolve(ctx.cwd, options.out ?? join("headshots", identityName, preset.name));
  const problem = await checkWritableDir(outDir);
  if (problem) {
    throw new UsageError(`Cannot write to ${outDir}: ${problem.path} ${problem.reason === "not-a-directory" ? "is a file, not a folder" : "is not writable"}`, {
      code: "E_OUT_UNWRITABLE",
      hint: "pass --out with a folder you can write to",
    });
  }
  let seedBase: number;
  let seedSource: GenPlan["seedSource"];
  let recorded = ctx.recordedSeedBase;
  if (options.seed !== undefined) {
    seedBase = options.seed;
    seedSource = "flag";
  } else if ((recorded ??= await ctx.readRecordedSeedBase?.(outDir)) !== undefined) {
    seedBase = recorded;
    seedSource = "manifest";
  } else {
    seedBase = ctx.random ? Math.floor(ctx.random() * MAX_SEED) : randomInt(0, MAX_SEED);
    seedSource = "random";
  }
  const model = chooseModel(options);
  return buildPlan({
    preset,
    assignments,
    identity: options.identity ? { name: options.identity.name, trigger: options.identity.trigger, classWord: options.identity.classWord } : undefined,
    count: options.count,
    seedBase,
    seedSource,
    outDir,
    model,
    concurrency: options.concurrency,
    ...(options.loraUrl ? { inputContext: { loraWeights: options.loraUrl } } : {}),
  });
}
