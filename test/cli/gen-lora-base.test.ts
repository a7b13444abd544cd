/**
 * A LoRA only goes to a model that can load it: Replicate's LoRA endpoints (flux-dev-lora, trained
 * versions) run FLUX.1-dev, so an identity trained locally on FLUX.2 (dev, klein) or on schnell is
 * refused by `gen --backend replicate` with exit 2 before any request, even with a hosted copy.
 */
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { registerIdentity } from "../unit/generation/fixtures.js";

let emu: ReplicateEmulator;
let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let env: Record<string, string>;

beforeAll(async () => {
  emu = await startReplicateEmulator({ latencyMs: 100 });
});
afterAll(async () => {
  await emu.close();
});
beforeEach(async () => {
  ws = await tempWorkspace("headshot-gen-lora-base-");
  env = { ...ws.env, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl };
  emu.clearLog();
});
afterEach(async () => {
  await ws.cleanup();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;
const LORA_URL = "https://huggingface.co/jane/face/resolve/main/lora.safetensors";

describe("gen --backend replicate refuses a LoRA its models cannot load", () => {
  it.each([
    ["flux2-dev", "black-forest-labs/FLUX.2-dev", /FLUX\.2/, /--backend local.*--ref/],
    ["flux2-klein-4b", "black-forest-labs/FLUX.2-klein-base-4B", /FLUX\.2/, /--backend local.*--ref/],
    ["flux1-schnell", "black-forest-labs/FLUX.1-schnell", /schnell/, /--backend local.*--model flux1-dev/],
  ])("%s: exit 2 with a hint, nothing sent", async (recipe, baseModel, what, hint) => {
    await registerIdentity(ws.home, "kay", { recipe, baseModel, loraUrl: LORA_URL });
    for (const extra of [[], ["--dry-run"], ["--model", "flux-dev-lora", "--lora-url", LORA_URL]]) {
      const r = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "kay", "--count", "2", "--out", join(ws.dir, "out"), ...extra], { cwd: ws.dir, env });
      expect(r.code, r.stdout).toBe(2);
      const error = (r.json().at(-1) as Json).error as Json;
      expect(error.code).toBe("E_LORA_BASE_MISMATCH");
      expect(error.message).toMatch(what);
      expect(error.hint).toMatch(hint);
    }
    expect(emu.requests).toHaveLength(0);
  });

  it("a FLUX.1-dev identity with a hosted LoRA still runs on flux-dev-lora (the check is not over-eager)", async () => {
    await registerIdentity(ws.home, "dev", { recipe: "flux1-dev", baseModel: "black-forest-labs/FLUX.1-dev", loraUrl: LORA_URL });
    const r = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "dev", "--count", "1", "--seed", "5", "--no-score", "--out", join(ws.dir, "out")], { cwd: ws.dir, env });
    expect(r.code, r.stdout).toBe(0);
    expect(emu.count("POST", /\/predictions$/)).toBe(1);
  });
});
