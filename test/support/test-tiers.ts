/**
 * Which test files are in which tier (read by vitest.config.ts; paths from the repo root).
 * - fast: test/unit/ and test/contract/ minus SLOW_UNIT: pure, in seconds (`npm run test:fast`);
 *   test/support/fast-tier-guard.ts makes a child process, a worker thread (the face models) or a
 *   listening server fail there, so a file that needs one must be listed in SLOW_UNIT.
 * - unit-io: SLOW_UNIT (the emulator, the fake ai-toolkit, the face models, ExifTool).
 * - slow: everything else (test/cli/ in-process commands, test/e2e/ the built binary).
 */
export const FAST_UNIT = ["test/unit/**/*.test.ts", "test/contract/**/*.test.ts"];

export const SLOW_UNIT = [
  "test/unit/curation/after-batch.test.ts",
  "test/unit/curation/curate.test.ts",
  "test/unit/generation-local/headshot-generate-standins.test.ts",
  "test/unit/generation-local/local-backend.test.ts",
  "test/unit/generation-local/local-generator-fake.test.ts",
  "test/unit/generation/xmp-readers.test.ts",
  "test/unit/identity/likeness-real-set.test.ts",
  "test/unit/replicate/client-faults.test.ts",
  "test/unit/replicate/emulator.test.ts",
  "test/unit/replicate/errors-and-redaction.test.ts",
  "test/unit/replicate/lifecycle.test.ts",
  "test/unit/replicate/openapi-conformance.test.ts",
  "test/unit/replicate/retry-fetch.test.ts",
  "test/unit/replicate/storm.test.ts",
  "test/unit/replicate/trainings.test.ts",
  "test/unit/scoring/calibration.test.ts",
  "test/unit/scoring/until.test.ts",
  "test/unit/selfies/decode.test.ts",
  "test/unit/selfies/faces.test.ts",
  "test/unit/selfies/false-second-face.test.ts",
  "test/unit/training/fake-ai-toolkit.test.ts",
  "test/unit/training/local-trainer.test.ts",
  "test/unit/training/locate.test.ts",
  "test/unit/training/lock.test.ts",
  "test/unit/training/runner.test.ts",
];

/**
 * The longest files, longest first (vitest's JSON reporter, one file at a time on a loaded 2-core
 * machine, 2026-12-07): started first so that no long file starts last and runs alone.
 */
export const LONG_FILES = [
  "test/e2e/signals-and-pipes.test.ts",
  "test/e2e/fault-suite.test.ts",
  "test/cli/train-replicate.test.ts",
  "test/e2e/quickstart.test.ts",
  "test/cli/train-replicate-interrupt.test.ts",
  "test/cli/gen-rehearsal.test.ts",
  "test/unit/identity/likeness-real-set.test.ts",
  "test/unit/generation-local/headshot-generate-standins.test.ts",
  "test/cli/gen-curate.test.ts",
  "test/cli/batch.test.ts",
  "test/unit/training/local-trainer.test.ts",
  "test/cli/train-local.test.ts",
  "test/cli/gen-local.test.ts",
];
