/**
 * What a batch checks before anything runs (exit 2 up front, not halfway), and what earlier runs
 * of the same file already paid (the budget is the whole file's).
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { isHeadshotError, UsageError } from "../errors.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import { assertNotLocked } from "../util/folder-lock.js";
import { exists } from "../util/fs.js";
import { shellQuote } from "../util/shell-quote.js";
import { checkOverrides } from "../generation/prepare-plan.js";
import { checkGenerateOptions } from "../generate/options.js";
import { assertDistinctPresetFolders } from "./gen-step.js";
import { homeFor, trainingCostOf } from "./identity-step.js";
import { generateOptionsFor, type ResolvedBatch } from "./resolve.js";

/** Everything that can be known wrong before anything runs: exit 2 up front, not halfway. */
export async function preflight(batch: ResolvedBatch, settings: GlobalSettings, env: Env): Promise<void> {
  const home = settings.home.value;
  const { loadPreset } = await import("../presets/load.js");
  const { findIdentity } = await import("../identity/registry.js");
  const { dirname } = await import("node:path");
  const problems: string[] = [];
  const presetErrors: unknown[] = [];
  for (const person of batch.people) {
    const names: string[] = [];
    for (const preset of person.presets) {
      // The curation flags mean what gen's do and are refused like gen's (same words, exit 2).
      checkFlags(person.name, preset.written, () => checkGenerateOptions(generateOptionsFor(person, preset, person.identity, batch.out, batch.concurrency)));
      // `set:` overrides are checked here, not after training (a Replicate training is paid: issue 14, R6).
      problems.push(...checkOverrides(preset.set, `people[${person.name}] preset "${preset.written}" set:`).problems);
      try {
        names.push((await loadPreset(preset.ref, { cwd: dirname(batch.file), userDirs: settings.presetDirs })).name);
      } catch (error) {
        if (isHeadshotError(error) && error.diagnostics.length) presetErrors.push(error);
        else problems.push(`people[${person.name}] preset "${preset.written}": ${(error as Error).message}${isHeadshotError(error) && error.hint ? ` (${error.hint})` : ""}`);
      }
    }
    try {
      assertDistinctPresetFolders(person.name, names);
    } catch (error) {
      problems.push((error as Error).message);
    }
    // A folder another live run holds: refused now, before any training (issue 14, S3).
    for (const name of names) {
      await assertNotLocked(join(batch.out, person.name, name), "nothing").catch((error: unknown) => problems.push(`people[${person.name}] preset ${name}: ${(error as Error).message}`));
    }
    if (person.selfies && !(await exists(person.selfies))) problems.push(`people[${person.name}]: selfies folder not found: ${person.selfies}`);
    if (!person.trains) {
      const found = (await findIdentity(homeFor(home, person.backend), person.identity)) ?? (person.backend === "test" ? await findIdentity(home, person.identity) : undefined);
      if (!found) problems.push(`people[${person.name}]: no identity named "${person.identity}" (train it with \`headshot train <selfies> --name ${person.identity}\`, or give \`selfies:\`)`);
    }
  }
  if (presetErrors[0]) throw presetErrors[0];
  if (problems.length) {
    throw new UsageError(`${batch.file}: ${problems.length} problem${problems.length === 1 ? "" : "s"} found before starting`, {
      code: "E_BATCH_INVALID",
      details: problems,
      hint: "fix the batch file (paths are relative to it); nothing was run or paid for",
    });
  }
  if (batch.people.some((p) => p.backend === "replicate")) {
    const { createReplicateSession } = await import("../replicate/client.js");
    try {
      createReplicateSession({ env, ...(settings.replicateBaseUrl.value ? { baseUrl: settings.replicateBaseUrl.value } : {}) });
    } catch (error) {
      if (isHeadshotError(error)) {
        throw new UsageError(error.message, {
          code: error.code,
          hint: `${error.hint ?? ""}${error.hint ? "; " : ""}or try the whole batch for free first: headshot batch ${shellQuote(batch.file)} --backend test`,
        });
      }
      throw error;
    }
  }
}

/** Gen's usage error for a bad flag combination, naming the person and preset it is about. */
function checkFlags(person: string, preset: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`people[${person}] preset "${preset}": ${error.message}`, { code: error.code, hint: `${error.hint ?? ""} (in the batch file: the same keys without --, e.g. keepBest, maxCount, score: false)` });
  }
}

/** What earlier runs of this batch already paid: image costs in every manifest under <out>/<person>/, trainings. */
export async function spentSoFar(batch: ResolvedBatch, home: string): Promise<number> {
  const { findIdentity } = await import("../identity/registry.js");
  let total = 0;
  for (const person of batch.people) {
    if (person.backend === "test") continue;
    let folders: string[] = [];
    try {
      folders = await readdir(join(batch.out, person.name));
    } catch {
      // nothing generated yet
    }
    for (const folder of folders) {
      try {
        const { readFile } = await import("node:fs/promises");
        const manifest = JSON.parse(await readFile(join(batch.out, person.name, folder, "manifest.json"), "utf8")) as { batch?: { placeholder?: boolean }; images?: Record<string, { costUsd?: number }> };
        if (manifest.batch?.placeholder) continue;
        for (const entry of Object.values(manifest.images ?? {})) total += typeof entry.costUsd === "number" ? entry.costUsd : 0;
        total += await polishSpent(join(batch.out, person.name, folder));
      } catch {
        // no manifest here
      }
    }
    if (person.trains) {
      const identity = await findIdentity(home, person.identity).catch(() => undefined);
      if (identity) total += trainingCostOf(identity);
    }
  }
  return total;
}


/** What the face detail passes (and upscales) of a preset folder cost (its polish manifest). */
async function polishSpent(folder: string): Promise<number> {
  const { readPolishManifest, POLISH_MANIFEST } = await import("../polish/manifest.js");
  const { POLISHED_DIR } = await import("../polish/run-polish.js");
  const manifest = await readPolishManifest(join(folder, POLISHED_DIR, POLISH_MANIFEST)).catch(() => undefined);
  if (!manifest || manifest.placeholder) return 0;
  return Object.values(manifest.images).reduce((sum, e) => sum + e.faces.reduce((f, face) => f + (face.costUsd ?? 0), 0) + (e.upscale?.costUsd ?? 0), 0);
}
