/**
 * The built binary (`bin/headshot.js`, run `npx tsc -p tsconfig.build.json` first) generating with
 * `--backend local`: the real headshot_generate.py under the machine's python3 with the stand-in
 * torch/diffusers first on PYTHONPATH, the fake nvidia-smi on PATH. SIGINT to the CLI (as Ctrl-C
 * does) mid-image stops the Python child cleanly (no half-written image, no process left behind);
 * the re-run finishes the batch. The identity is registered through the registry with a real
 * (small) FLUX.1 LoRA safetensors file.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveIdentity, type Identity } from "../../src/identity/registry.js";
import { sha256File } from "../../src/util/hash-file.js";
import { FAKE_BIN } from "../support/fake-ai-toolkit/harness.js";
import { readJsonLines, writeSafetensors } from "../support/fake-local-gen/files.js";
import { BIN, onJsonLines, type Json } from "../support/cli-binary.js";

const STANDINS = fileURLToPath(new URL("../support/python-standins", import.meta.url));

let dir: string;
let env: Record<string, string>;
const out = () => join(dir, "out");
const args = ["--json", "gen", "--preset", "corporate", "--identity", "jane", "--backend", "local", "--count", "3", "--seed", "7"];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-e2e-gen-local-"));
  const home = join(dir, "home");
  const lora = join(home, "identities", "jane", "training", "jane", "jane.safetensors");
  await mkdir(join(home, "identities", "jane", "training", "jane"), { recursive: true });
  // ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py: FLUX.1 LoRAs are diffusers PEFT keys under transformer.
  await writeSafetensors(lora, {
    "transformer.single_transformer_blocks.0.attn.to_q.lora_A.weight": [4, 32],
    "transformer.single_transformer_blocks.0.attn.to_q.lora_B.weight": [32, 4],
  });
  const identity: Identity = {
    schemaVersion: 1,
    name: "jane",
    trigger: "ohwx",
    classWord: "woman",
    backend: "local",
    baseModel: "black-forest-labs/FLUX.1-dev",
    recipe: "flux1-dev",
    lora: { path: lora, sha256: await sha256File(lora), bytes: 0 },
    training: { steps: 10, rank: 16, lr: 1e-4, resolutions: [512, 768, 1024] },
    dataset: { dir: join(home, "dataset"), hash: "1".repeat(64), images: 8, sourceDir: join(dir, "selfies") },
    selfies: { verdict: "ok", usable: 8, total: 8 },
    createdAt: "2026-11-01T00:00:00.000Z",
  };
  await saveIdentity(home, identity);
  env = {
    PATH: `${FAKE_BIN}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: dir,
    HEADSHOT_HOME: home,
    AI_TOOLKIT_PYTHON: "python3",
    PYTHONPATH: STANDINS,
    PYTHONDONTWRITEBYTECODE: "1",
    STANDIN_RECORD: join(dir, "calls.jsonl"),
    FAKE_GPU: "NVIDIA GeForce RTX 4090,24564,24100",
  };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("headshot gen --backend local (built binary)", () => {
  it("SIGINT mid-image: exit 130, Python gone, no partial file; the re-run completes", async () => {
    const child = execa("node", [BIN, ...args, "--out", out()], { cwd: dir, env: { ...env, STANDIN_STEP_SECONDS: "0.03" }, extendEnv: false, reject: false, buffer: false });
    const lines: Json[] = [];
    let signalled = false;
    onJsonLines(child.stdout, (line) => {
      lines.push(line);
      // Ctrl-C while the second image is being denoised.
      if (!signalled && line.type === "gen.local.step" && line.key.endsWith("-002") && line.step >= 3) {
        signalled = true;
        child.kill("SIGINT");
      }
    });
    const first = await child;
    expect(signalled).toBe(true);
    expect(first.exitCode).toBe(130);
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: false, error: { code: "E_INTERRUPTED" } });
    const pid = lines.find((l) => l.type === "gen.local.ready")?.pid as number;
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
    const all = await readdir(out(), { recursive: true });
    expect(all.filter((f) => f.includes(".headshot-tmp-"))).toEqual([]);
    expect(all.filter((f) => f.endsWith(".png") && !f.includes("/"))).toHaveLength(1);

    const again = await execa("node", [BIN, ...args, "--out", out()], { cwd: dir, env, extendEnv: false, reject: false });
    expect(again.exitCode, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout.trim().split("\n").at(-1) ?? "{}") as Json;
    expect(summary).toMatchObject({ ok: true, done: 3, skipped: 1, made: 2 });
    const manifest = JSON.parse(await readFile(join(out(), "manifest.json"), "utf8")) as Json;
    for (const entry of Object.values(manifest.images) as Json[]) {
      expect(entry.status).toBe("done");
      expect(createHash("sha256").update(await readFile(join(out(), entry.file))).digest("hex")).toBe(entry.sha256);
    }
    // Seeds 7..9 reached the pipeline; the interrupted image was generated again with its own seed.
    const seeds = (await readJsonLines<Json>(env.STANDIN_RECORD!)).filter((c) => c.call === "__call__").map((c) => c.generator_seed);
    expect(seeds).toEqual([7, 8, 8, 9]);
  });
});
