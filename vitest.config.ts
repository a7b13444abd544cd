import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";
import HeavyFirstSequencer from "./test/support/heavy-first-sequencer.js";
import { FAST_UNIT, SLOW_UNIT } from "./test/support/test-tiers.js";

export default defineConfig({
  test: {
    // Face models on the WASM backend and the built CLI are slow to start on 2 cores.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two files at once even on 2 cores (vitest's default there is 1): most files wait on child
    // processes, the emulator or the face-model workers, so a second file fills the idle core.
    // Capped: every worker may load the face models (hundreds of MB each).
    maxWorkers: Math.min(4, Math.max(2, availableParallelism())),
    sequence: { sequencer: HeavyFirstSequencer },
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // Tiers: see test/support/test-tiers.ts. `npm run test:fast` runs the first one alone.
    projects: [
      // Pure files share one module graph per worker (isolate: false): about half the CPU time of
      // re-importing zod, sharp and the presets for each file.
      {
        extends: true,
        test: { name: "fast", include: FAST_UNIT, exclude: [...configDefaults.exclude, ...SLOW_UNIT], setupFiles: ["./test/support/fast-tier-guard.ts"], isolate: false },
      },
      { extends: true, test: { name: "unit-io", include: SLOW_UNIT } },
      { extends: true, test: { name: "slow", include: ["test/**/*.test.ts"], exclude: [...configDefaults.exclude, ...FAST_UNIT] } },
    ],
  },
});
