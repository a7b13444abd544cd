/**
 * The `identities rm` use case: remove an identity (or an unfinished training of that name) and
 * its folder, after a yes from the person unless `yes` was given; nobody to ask is a usage error.
 */
import { UsageError } from "../errors.js";
import type { UseCaseIo } from "../use-case.js";
import { identityPaths, validateIdentityName } from "./paths.js";
import { findIdentity, folderSize, getIdentity, removeIdentity } from "./registry.js";

export interface RemoveIdentityRequest {
  home: string;
  name: string;
  /** `--yes`: do not ask. */
  yes: boolean;
}

export interface RemoveIdentityResult {
  removed: boolean;
  name: string;
  dir: string;
  /** What was (or would have been) removed, in words: kind, folder and size. */
  what: string;
}

export async function removeIdentityFolder(request: RemoveIdentityRequest, io: UseCaseIo<never>): Promise<RemoveIdentityResult> {
  const { home } = request;
  const name = validateIdentityName(request.name);
  const id = await findIdentity(home, name);
  const { dir } = identityPaths(home, name);
  const size = await folderSize(dir);
  if (!id && size === 0) await getIdentity(home, name); // throws the not-found error with a suggestion
  const what = `${id ? "identity" : "unfinished training"} ${name} (${dir}, ${(size / 1e6).toFixed(1)} MB)`;
  if (!request.yes) {
    if (!io.confirm) {
      throw new UsageError(`refusing to remove ${what} without confirmation`, { code: "E_CONFIRM_REQUIRED", hint: `pass --yes: headshot identities rm ${name} --yes` });
    }
    if (!(await io.confirm(`Remove ${what}?`))) return { removed: false, name, dir, what };
  }
  await removeIdentity(home, name);
  return { removed: true, name, dir, what };
}
