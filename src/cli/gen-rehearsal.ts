/**
 * `gen --backend test` with a known person is a rehearsal (issue 15): previews drawn from the
 * person's own selfies. Here: where an identity is looked up (a rehearsal identity from
 * `train --backend test` lives in `<HEADSHOT_HOME>/test-mode/`, never in the real registry), the
 * refusal when a real backend is asked to use one, and loading the rehearsal's selfie crops.
 */
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { RehearsalSource } from "../generation/rehearsal/compose.js";
import type { GenCliOptions } from "./commands/gen.js";
import type { CommandContext } from "./context.js";

/** The HEADSHOT_HOME that holds `--identity` for this backend (see batch/identity-step.ts homeFor). */
export async function identityHomeFor(home: string, options: Pick<GenCliOptions, "identity" | "backend">): Promise<string> {
  if (!options.identity) return home;
  const { homeFor, isPlaceholderIdentity } = await import("../batch/identity-step.js");
  const { findIdentity } = await import("../identity/registry.js");
  const testHome = homeFor(home, "test");
  const rehearsal = await findIdentity(testHome, options.identity).catch(() => undefined);
  if (options.backend === "test") return rehearsal ? testHome : home;
  const real = await findIdentity(home, options.identity).catch(() => undefined);
  if ((!real && rehearsal) || (real && isPlaceholderIdentity(real))) {
    throw new UsageError(`identity "${options.identity}" is a rehearsal (train --backend test): it has no LoRA and works only with --backend test`, {
      code: "E_IDENTITY_PLACEHOLDER",
      hint: `train it for real first: headshot train <selfies> --name ${options.identity} --backend replicate (or --backend local); or add --backend test to rehearse`,
    });
  }
  return home;
}

/** The person's selfie crops for the previews, or undefined when no person is known. */
export async function rehearsalFor(ctx: CommandContext, options: GenCliOptions, identityHome: string): Promise<RehearsalSource | undefined> {
  if (options.backend !== "test" || options.dryRun || (!options.identity && !options.ref)) return undefined;
  const { loadRehearsalSource } = await import("../generation/rehearsal/source.js");
  const progress = ctx.reporter.json ? undefined : ctx.reporter.progress("Preparing the rehearsal from your selfies");
  try {
    if (options.identity) {
      const { getIdentity } = await import("../identity/registry.js");
      const identity = await getIdentity(identityHome, options.identity);
      return await loadRehearsalSource({ home: identityHome, identity, signal: ctx.signal });
    }
    return await loadRehearsalSource({ home: identityHome, selfies: resolve(ctx.cwd, options.ref!), signal: ctx.signal });
  } finally {
    progress?.stop();
  }
}
