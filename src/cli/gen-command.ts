/** The `gen` use case behind the thin command file: plan, then dry-run or generate. */
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { preparePlan, type GenOptions } from "../generation/prepare-plan.js";
import type { CommandContext } from "./context.js";
import type { GenCliOptions } from "./commands/gen.js";
import { renderPlan } from "./plan-view.js";

export const DEFAULT_CONCURRENCY = 6;

interface IdentityRecord {
  name: string;
  trigger: string;
  classWord: string;
  backend?: "replicate" | "local";
}

/** Reads a registered identity's trigger and class word from HEADSHOT_HOME. */
export async function lookupIdentity(home: string, name: string): Promise<IdentityRecord> {
  const path = join(home, "identities", name, "identity.json");
  let raw: string;
  try {
    raw = await readFile(path, "utf8");
  } catch {
    throw new UsageError(`Unknown identity "${name}"`, {
      code: "E_IDENTITY_NOT_FOUND",
      hint: `train it first (headshot train ./selfies --name ${name}), or list them with: headshot identities list`,
    });
  }
  const data = JSON.parse(raw) as Partial<IdentityRecord> & { class?: string };
  return { name, trigger: data.trigger ?? "ohwx", classWord: data.classWord ?? data.class ?? "person", ...(data.backend ? { backend: data.backend } : {}) };
}

export async function runGenCommand(ctx: CommandContext, options: GenCliOptions): Promise<void> {
  const settings = await ctx.settings();
  const identity = options.identity ? await lookupIdentity(settings.home.value, options.identity) : undefined;
  const config = settings.projectConfig;
  const genOptions: GenOptions = {
    preset: options.preset,
    identity: identity ? { name: identity.name, trigger: identity.trigger, classWord: identity.classWord, ...(identity.backend ? { trainedOn: identity.backend } : {}) } : undefined,
    count: options.count ?? config?.defaults?.count,
    seed: options.seed,
    // A relative `out:` in the project config is relative to that file, not to the cwd.
    out: options.out ?? (config?.out && settings.projectConfigPath ? resolve(dirname(settings.projectConfigPath), config.out) : undefined),
    set: options.set,
    format: options.format ?? config?.defaults?.format,
    backend: options.backend,
    model: options.model ?? config?.defaults?.model,
    ref: options.ref,
    loraUrl: options.loraUrl,
    concurrency: options.concurrency ?? config?.defaults?.concurrency ?? DEFAULT_CONCURRENCY,
  };
  const plan = await preparePlan(genOptions, { cwd: ctx.cwd, presetDirs: settings.presetDirs });
  if (!options.dryRun) {
    throw new UsageError("Generation backends are not available in this build yet; only --dry-run works", {
      code: "E_NOT_AVAILABLE",
      hint: "add --dry-run to see the plan",
    });
  }
  for (const image of plan.images) ctx.reporter.event("plan.image", { ...image });
  ctx.reporter.result(renderPlan(plan, ctx.reporter));
  ctx.reporter.summary({
    dryRun: true,
    preset: plan.preset,
    identity: plan.identity,
    model: plan.model,
    count: plan.images.length,
    seedBase: plan.seedBase,
    seedSource: plan.seedSource,
    outDir: plan.outDir,
    estimates: plan.estimates,
    priceTable: plan.priceTable,
  });
}
