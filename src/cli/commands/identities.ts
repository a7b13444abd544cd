/** `headshot identities list|show|rm`: the trained identities in HEADSHOT_HOME. */
import type { Command } from "commander";
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
  const { renderIdentityList } = await import("../views/identities.js");
  const home = (await ctx.settings()).home.value;
  renderIdentityList(ctx.reporter, home, await listIdentities(home));
}

async function showIdentityAction(ctx: CommandContext, name: unknown): Promise<void> {
  const { getIdentity } = await import("../../identity/registry.js");
  const { renderIdentity } = await import("../views/identities.js");
  renderIdentity(ctx.reporter, await getIdentity((await ctx.settings()).home.value, String(name)));
}

async function removeIdentityAction(ctx: CommandContext, name: unknown, rawFlags: unknown): Promise<void> {
  const { removeIdentityFolder } = await import("../../identity/remove.js");
  const home = (await ctx.settings()).home.value;
  const result = await removeIdentityFolder({ home, name: String(name), yes: Boolean((rawFlags as { yes?: boolean }).yes) }, ctx.io<never>(() => undefined));
  if (result.removed) {
    ctx.reporter.success(`removed ${result.what}`);
    ctx.reporter.summary({ removed: true, name: result.name, dir: result.dir });
  } else {
    ctx.reporter.info("nothing removed");
    ctx.reporter.summary({ removed: false, name: result.name });
  }
}
