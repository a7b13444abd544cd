import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Layering (issue 16): only src/cli/ knows argv, the terminal and exit codes; nothing imports it.
const NOT_CLI = { regex: "(^|/)cli/", message: "src/cli/ is the outermost layer: pass plain input and events instead (see src/use-case.ts)." };

// Pure modules: data in, data out. No file system, processes, network or image decoding, so they
// stay fast to test table-driven. Add a file here when its header says it is pure.
const PURE_FILES = [
  "src/generate/options.ts",
  "src/generate/outcome.ts",
  "src/generation/plan.ts",
  "src/generation/model-inputs.ts",
  "src/generation/lora-source.ts",
  "src/presets/compose.ts",
  "src/presets/variations.ts",
  "src/presets/vocabulary.ts",
  "src/selfies/rules.ts",
  "src/selfies/set-rules.ts",
  "src/selfies/crop-geometry.ts",
  "src/scoring/similarity.ts",
  "src/scoring/select.ts",
  "src/scoring/until.ts",
  "src/scoring/calibration.ts",
  "src/scoring/checkpoints.ts",
  "src/curation/crop-geometry.ts",
  "src/curation/gallery-html.ts",
  "src/training/plan.ts",
  "src/training/recipes.ts",
  "src/training/ai-toolkit/progress.ts",
  "src/identity/paths.ts",
  "src/pricing/prices.ts",
  "src/batch/budget.ts",
  "src/batch/resolve.ts",
  "src/cli/views/gen-summary.ts",
];
const NODE_IO = ["fs", "fs/promises", "child_process", "net", "http", "https", "worker_threads", "os"].flatMap((m) => [m, `node:${m}`]);
const PURE_RULE = [
  "error",
  {
    paths: [...NODE_IO, "execa", "sharp"].map((name) => ({ name, message: "a pure module does no I/O: take the data as input, let the caller read or write it." })),
    patterns: [NOT_CLI],
  },
];

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "test/support/fake-ai-toolkit/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The reporter and the bin shim are the only places allowed to write to the console.
    files: ["src/**/*.ts"],
    ignores: ["src/cli/reporter.ts"],
    rules: { "no-console": "error" },
  },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/cli/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [NOT_CLI] }] },
  },
  {
    files: PURE_FILES,
    rules: { "no-restricted-imports": PURE_RULE },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
  },
);
