/**
 * Local side of the polish tests: a polish workspace (./workspace.ts) whose identity "jane" is a
 * FLUX.1-dev LoRA (a real safetensors file the stand-in reads), a fake ai-toolkit checkout, and the
 * environment that runs the real headshot_generate.py under the Python stand-ins
 * (test/support/python-standins) on a fake 24 GB GPU. Callers add STANDIN_RECORD (and
 * STANDIN_PORTRAIT for text-to-image) per run.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fakeEnv, makeFakeCheckout } from "../fake-ai-toolkit/harness.js";
import { buildSafetensors } from "../replicate-emulator/index.js";
import { polishWorkspace } from "./workspace.js";

const STANDINS = fileURLToPath(new URL("../python-standins", import.meta.url));

export async function localPolishWorkspace(prefix: string): Promise<{ dir: string; env: Record<string, string | undefined> }> {
  const ws = await polishWorkspace(prefix, { recipe: "flux1-dev", baseModel: "black-forest-labs/FLUX.1-dev" });
  const toolkit = await makeFakeCheckout(ws.dir);
  await writeFile(join(ws.dir, "jane.safetensors"), buildSafetensors(4, "ohwx"));
  const env = {
    ...fakeEnv(),
    ...ws.env,
    HOME: ws.dir,
    AI_TOOLKIT_DIR: toolkit,
    AI_TOOLKIT_PYTHON: "python3",
    PYTHONPATH: STANDINS,
    PYTHONDONTWRITEBYTECODE: "1",
    FAKE_GPU: "NVIDIA GeForce RTX 4090,24564,24100",
  };
  return { dir: ws.dir, env };
}
