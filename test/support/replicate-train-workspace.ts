/**
 * The set-up of the `train --backend replicate` command tests: a temp workspace with a usable
 * selfie folder, its own Replicate emulator, and the environment that points the CLI at both
 * (token, base URL, a fast poll).
 */
import { join } from "node:path";
import { startReplicateEmulator, type EmulatorOptions, type ReplicateEmulator } from "./replicate-emulator/index.js";
import { tempWorkspace } from "./run-cli.js";
import { writeSelfies } from "../unit/training-replicate/support.js";

export interface ReplicateTrainWorkspace {
  ws: Awaited<ReturnType<typeof tempWorkspace>>;
  emu: ReplicateEmulator;
  env: Record<string, string>;
}

export async function replicateTrainWorkspace(prefix: string, emulator: EmulatorOptions): Promise<ReplicateTrainWorkspace> {
  const ws = await tempWorkspace(prefix);
  const emu = await startReplicateEmulator(emulator);
  const env = { HEADSHOT_HOME: ws.home, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl, HEADSHOT_REPLICATE_POLL_MS: "60" };
  await writeSelfies(join(ws.dir, "selfies"));
  return { ws, emu, env };
}
