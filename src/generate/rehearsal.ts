/**
 * `gen --backend test` with a known person is a rehearsal (issue 15): previews drawn from the
 * person's own selfies. Here: where an identity is looked up (a rehearsal identity from
 * `train --backend test` lives in `<HEADSHOT_HOME>/test-mode/`, never in the real registry), the
 * refusal when a real backend is asked to use one, and loading the rehearsal's selfie crops.
 */
import { resolve } from "node:path";
import { UsageError } from "../errors.js";
import type { RehearsalSource } from "../generation/rehearsal/compose.js";
import type { GenerateOptions } from "./options.js";

/** The HEADSHOT_HOME that holds `--identity` for this backend (identity/paths.ts testModeHome). */
export async function identityHomeFor(home: string, options: Pick<GenerateOptions, "identity" | "backend">): Promise<string> {
  if (!options.identity) return home;
  const { testModeHome } = await import("../identity/paths.js");
  const { findIdentity } = await import("../identity/registry.js");
  const testHome = testModeHome(home);
  const rehearsal = await findIdentity(testHome, options.identity).catch(() => undefined);
  if (options.backend === "test") return rehearsal ? testHome : home;
  const real = await findIdentity(home, options.identity).catch(() => undefined);
  const placeholder = real && (real.placeholder === true || real.backend === "test");
  if ((!real && rehearsal) || placeholder) {
    throw new UsageError(`identity "${options.identity}" is a rehearsal (train --backend test): it has no LoRA and works only with --backend test`, {
      code: "E_IDENTITY_PLACEHOLDER",
      hint: `train it for real first: headshot train <selfies> --name ${options.identity} --backend replicate (or --backend local); or add --backend test to rehearse`,
    });
  }
  return home;
}

/** The person's selfie crops for the previews, or undefined when no person is known. */
export async function rehearsalFor(options: GenerateOptions, place: { cwd: string; home: string }, signal: AbortSignal): Promise<RehearsalSource | undefined> {
  if (options.backend !== "test" || options.dryRun || (!options.identity && !options.ref)) return undefined;
  const { loadRehearsalSource } = await import("../generation/rehearsal/source.js");
  if (options.identity) {
    const { getIdentity } = await import("../identity/registry.js");
    const identity = await getIdentity(place.home, options.identity);
    return loadRehearsalSource({ home: place.home, identity, signal });
  }
  return loadRehearsalSource({ home: place.home, selfies: resolve(place.cwd, options.ref!), signal });
}

/** What a real run of these options lacks (a person), for the dry run's last line; else undefined. */
export function missingForRealRun(options: Pick<GenerateOptions, "identity" | "ref" | "backend">): string | undefined {
  if (options.identity || options.ref || options.backend === "test") return undefined;
  if (options.backend === "local") return "add --identity <name> (an identity trained with `headshot train --backend local`)";
  return "add a person: --identity <name> (a trained identity, see `headshot identities list`) or --ref <dir> (your selfies, FLUX.2 reference mode)";
}
