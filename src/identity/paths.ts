/**
 * Where an identity lives under HEADSHOT_HOME, and what a valid identity name is. Pure.
 *
 *   <home>/identities/<name>/identity.json   the registry entry (written last, on success)
 *   <home>/identities/<name>/dataset/        the prepared training set (images + captions)
 *   <home>/identities/<name>/training/       ai-toolkit's training_folder (job config, log, output)
 */
import { join } from "node:path";
import { UsageError } from "../errors.js";

export interface IdentityPaths {
  dir: string;
  file: string;
  datasetDir: string;
  trainingDir: string;
}

/**
 * The name becomes ai-toolkit's `config.name`, i.e. the output folder and the LoRA file stem, so it
 * follows ai-toolkit's rule: letters, digits, `_` and `-` (ostris/ai-toolkit toolkit/config.py, jobs/BaseJob.py).
 */
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * ai-toolkit's resume scan skips files whose name contains these (ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py), so a job named
 * e.g. `li_cn` could never resume from its own checkpoints.
 */
const RESUME_EXCLUDED = ["_LoRA", "_refiner", "_t2i", "_cn"];

export function validateIdentityName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(`invalid identity name "${name}"`, {
      code: "E_IDENTITY_NAME",
      hint: "use 1-64 letters, digits, '_' or '-', starting with a letter or digit (e.g. --name jane-doe)",
    });
  }
  const bad = RESUME_EXCLUDED.find((part) => name.includes(part));
  if (bad) {
    throw new UsageError(`identity name "${name}" contains "${bad}", which ai-toolkit ignores when resuming`, {
      code: "E_IDENTITY_NAME",
      hint: `pick a name without "${bad}" (e.g. --name ${name.replaceAll(bad, bad.replace("_", "-"))})`,
    });
  }
  return name;
}

export function identitiesRoot(home: string): string {
  return join(home, "identities");
}

export function identityPaths(home: string, name: string): IdentityPaths {
  const dir = join(identitiesRoot(home), name);
  return {
    dir,
    file: join(dir, "identity.json"),
    datasetDir: join(dir, "dataset"),
    trainingDir: join(dir, "training"),
  };
}

/** Test-mode identities (rehearsals, `--backend test`) live apart from real ones (issue 15). */
export const TEST_MODE_DIR = "test-mode";

/** The HEADSHOT_HOME of test-mode identities: `<home>/test-mode/`. */
export function testModeHome(home: string): string {
  return join(home, TEST_MODE_DIR);
}
