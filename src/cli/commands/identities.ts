/** `headshot identities list|show|rm`: the trained identities in HEADSHOT_HOME. */
import type { Command } from "commander";
import { UsageError } from "../../errors.js";
import type { CommandContext, Wrap } from "../context.js";

const EXAMPLES = `
Examples:
  $ headshot identities list
  $ headshot identities show jane
  $ headshot identities rm jane --yes        (without --yes it asks on a terminal)

Identities live in <HEADSHOT_HOME>/identities/<name>/ (identity.json, the LoRA, the prepared dataset).
`;

export function registerIdentities(program: Command, wrap: Wrap): void {
  const group = program.command("identities").description("list, show or remove trained identities").addHelpText("after", EXAMPLES);

  group
    .command("list", { isDefault: true })
    .description("list trained identities")
    .action(wrap((ctx) => listIdentitiesAction(ctx)));

  group
    .command("show")
    .description("show one identity (LoRA path and hash, training settings, dataset)")
    .argument("<name>")
    .action(wrap((ctx, name) => showIdentityAction(ctx, name)));

  group
    .command("rm")
    .description("remove an identity and its folder (LoRA, checkpoints, samples, dataset)")
    .argument("<name>")
    .option("--yes", "do not ask (required when not interactive)")
    .action(wrap((ctx, name, rawFlags) => removeIdentityAction(ctx, name, rawFlags)));
}

async function listIdentitiesAction(ctx: CommandContext): Promise<void> {
  const { listIdentities } = await import("../../identity/registry.js");
  const home = (await ctx.settings()).home.value;
  const { identities, problems } = await listIdentities(home);
  for (const problem of problems) ctx.reporter.warn(problem);
  for (const id of identities) {
    ctx.reporter.event("identity", { name: id.name, trigger: id.trigger, recipe: id.recipe, backend: id.backend, lora: id.lora.path, createdAt: id.createdAt });
  }
  if (identities.length === 0) ctx.reporter.info(`no identities yet in ${home}; train one: headshot train ./selfies --name <name> --backend local`);
  else {
    const rows = identities.map((i) => [i.name, i.trigger, i.recipe, i.backend, i.createdAt.slice(0, 10)]);
    ctx.reporter.result(table([["NAME", "TRIGGER", "MODEL", "BACKEND", "CREATED"], ...rows]));
  }
  ctx.reporter.summary({ count: identities.length, problems: problems.length });
}

async function showIdentityAction(ctx: CommandContext, name: unknown): Promise<void> {
  const { getIdentity } = await import("../../identity/registry.js");
  const id = await getIdentity((await ctx.settings()).home.value, String(name));
  if (ctx.reporter.json) {
    const { selfies, ...rest } = id;
    const { embedding, ...selfieRest } = selfies;
    ctx.reporter.summary({ identity: { ...rest, selfies: { ...selfieRest, ...(embedding ? { embedding: { model: embedding.model, dims: embedding.dims, count: embedding.count } } : {}) } } });
    return;
  }
  ctx.reporter.result(
    [
      `name:        ${id.name}`,
      `trigger:     ${id.trigger} (class: ${id.classWord})`,
      `base model:  ${id.baseModel} (recipe ${id.recipe}, backend ${id.backend})`,
      `LoRA:        ${id.lora.path}`,
      `sha256:      ${id.lora.sha256} (${id.lora.bytes} bytes)`,
      `training:    ${id.training.steps} steps, rank ${id.training.rank}, lr ${id.training.lr}, resolutions ${id.training.resolutions.join("/")}`,
      `dataset:     ${id.dataset.images} images from ${id.dataset.sourceDir} (hash ${id.dataset.hash.slice(0, 12)})`,
      `selfies:     ${id.selfies.usable} of ${id.selfies.total} usable (${id.selfies.verdict})${id.selfies.selfSimilarity ? `, self-similarity mean ${id.selfies.selfSimilarity.mean.toFixed(3)}` : ""}`,
      `created:     ${id.createdAt}`,
    ].join("\n"),
  );
}

async function removeIdentityAction(ctx: CommandContext, name: unknown, rawFlags: unknown): Promise<void> {
  const flags = rawFlags as { yes?: boolean };
  const { findIdentity, folderSize, removeIdentity } = await import("../../identity/registry.js");
  const { identityPaths, validateIdentityName } = await import("../../identity/paths.js");
  const home = (await ctx.settings()).home.value;
  const idName = validateIdentityName(String(name));
  const id = await findIdentity(home, idName);
  const { dir } = identityPaths(home, idName);
  const size = await folderSize(dir);
  if (!id && size === 0) {
    const { getIdentity } = await import("../../identity/registry.js");
    await getIdentity(home, idName); // throws the not-found error with a suggestion
  }
  const what = `${id ? "identity" : "unfinished training"} ${idName} (${dir}, ${(size / 1e6).toFixed(1)} MB)`;
  if (!flags.yes) {
    if (!ctx.reporter.interactive || !ctx.deps.confirm) {
      throw new UsageError(`refusing to remove ${what} without confirmation`, { code: "E_CONFIRM_REQUIRED", hint: `pass --yes: headshot identities rm ${idName} --yes` });
    }
    if (!(await ctx.deps.confirm(`Remove ${what}?`))) {
      ctx.reporter.info("nothing removed");
      ctx.reporter.summary({ removed: false, name: idName });
      return;
    }
  }
  await removeIdentity(home, idName);
  ctx.reporter.success(`removed ${what}`);
  ctx.reporter.summary({ removed: true, name: idName, dir });
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join("  ").trimEnd()).join("\n");
}
