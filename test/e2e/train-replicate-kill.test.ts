/**
 * "Even if the laptop sleeps": the built binary is SIGKILLed while it waits for a Replicate
 * training (once the training id is persisted), then the same command is run again. The
 * emulator's request log proves that no second training was created, and the re-run leaves the
 * identity registered with the very LoRA file the trainer's tar holds.
 * Needs `npx tsc -p tsconfig.build.json` first (like the other e2e tests).
 */
import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReplicateEmulator, type ReplicateEmulator } from "../support/replicate-emulator/index.js";
import { readTar, remoteState, sha256, waitUntil, writeSelfies } from "../unit/training-replicate/support.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const BIN = join(process.cwd(), "bin", "headshot.js");
let dir: string;
let emu: ReplicateEmulator;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-e2e-train-rep-"));
  emu = await startReplicateEmulator({ trainingMs: 4000, seed: 5 });
  const home = join(dir, "home");
  env = { HEADSHOT_HOME: home, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl, HEADSHOT_REPLICATE_POLL_MS: "100", CI: "1" };
  await writeSelfies(join(dir, "selfies"));
});
afterAll(async () => {
  await emu.close();
  await rm(dir, { recursive: true, force: true });
});

describe("train --backend replicate survives kill -9", () => {
  it("re-running after SIGKILL mid-wait re-attaches: one training, identity registered, LoRA = the tar's file", async () => {
    const args = [BIN, "--json", "train", "./selfies", "--name", "kim", "--backend", "replicate"];
    const child = execa("node", args, { cwd: dir, env, extendEnv: true, reject: false });
    await waitUntil(async () => Boolean((await remoteState(env.HEADSHOT_HOME as string, "kim"))?.training?.id), 60_000, 20);
    child.kill("SIGKILL");
    const killed = await child;
    expect(killed.signal).toBe("SIGKILL");
    const id = ((await remoteState(env.HEADSHOT_HOME as string, "kim")) as Json).training.id as string;
    const before = (await (await fetch(`${emu.baseUrl}/trainings/${id}`, { headers: { Authorization: `Bearer ${emu.token}` } })).json()) as Json;
    expect(["starting", "processing"]).toContain(before.status); // killed mid-wait, not after
    expect(emu.count("POST", /\/trainings$/)).toBe(1);

    // Simply re-running the same command (the stale lock of the killed process is taken over).
    const again = await execa("node", args, { cwd: dir, env, extendEnv: true, reject: false });
    expect(again.stderr).toBe("");
    expect(again.exitCode).toBe(0);
    const lines = String(again.stdout).split("\n").filter(Boolean).map((l) => JSON.parse(l) as Json);
    expect(lines.some((l) => l.type === "train.phase" && l.phase === "attach")).toBe(true);
    const summary = lines.at(-1) as Json;
    expect(summary).toMatchObject({ type: "summary", ok: true, name: "kim", backend: "replicate", replicate: { trainingId: id } });
    expect(emu.count("POST", /\/trainings$/)).toBe(1);

    const identity = JSON.parse(await readFile(join(env.HEADSHOT_HOME as string, "identities", "kim", "identity.json"), "utf8")) as Json;
    const tar = await readTar(Buffer.from(await (await fetch(identity.replicate.weights as string)).arrayBuffer()));
    const lora = tar.get("output/flux_train_replicate/lora.safetensors") as Buffer;
    expect(sha256(await readFile(identity.lora.path as string))).toBe(sha256(lora));
    expect(identity.lora.sha256).toBe(sha256(lora));
  }, 90_000);
});
