/**
 * Where the Python generator lives. The package ships src/generation/local/*.py; this resolves the
 * same file from src/generation/local/*.ts (tests) and dist/generation/local/*.js (the built CLI).
 */
import { fileURLToPath } from "node:url";

export function generateScriptPath(): string {
  return fileURLToPath(new URL("../../../src/generation/local/headshot_generate.py", import.meta.url));
}
