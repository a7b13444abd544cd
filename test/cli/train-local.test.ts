/**
 * `headshot train --backend local` end to end, in-process: the real selfie check (face models,
 * sharp) on photos built from the public-domain fixtures, the real preparation, the fake
 * ai-toolkit checkout as the trainer (spawned with execa) and the fake nvidia-smi on PATH.
 */
import { access, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Identity } from "../../src/identity/registry.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { astronaut, goodSelfies, writeAll } from "../support/selfies/build.js";
import { fakeEnv, makeFakeCheckout, type RecordedRun } from "../support/fake-ai-toolkit/harness.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let env: Record<string, string | undefined>;
let record: string;

async function recordedRuns(): Promise<RecordedRun[]> {
  try {
    return (await readFile(record, "utf8")).trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as RecordedRun);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  ws = await tempWorkspace("headshot-train-");
  const toolkit = await makeFakeCheckout(ws.dir);
  record = join(ws.dir, "runs.jsonl");
  env = { ...fakeEnv({ FAKE_AITK_RECORD: record }), HOME: ws.dir, HEADSHOT_HOME: ws.home, AI_TOOLKIT_DIR: toolkit };
  // One person, usable photos: crops, a flip, re-lit, rotated, a wide shot (test/support/selfies).
  await writeAll(join(ws.dir, "selfies"), await goodSelfies());
  await writeAll(join(ws.dir, "few"), { "only.jpg": await astronaut({ size: 1100 }) });
});
afterAll(async () => {
  await ws.cleanup();
});

const train = (name: string, extra: string[] = [], over: Record<string, string | undefined> = {}, signal?: AbortSignal) =>
  runCli(["train", "./selfies", "--name", name, "--backend", "local", "--steps", "20", ...extra], { cwd: ws.dir, env: { ...env, ...over }, ...(signal ? { signal } : {}) });

describe("headshot train --backend local", () => {
  it("checks, prepares, trains and registers the identity (--json)", async () => {
    const r = await runCli(["--json", "train", "./selfies", "--name", "jane", "--backend", "local", "--steps", "20", "--class", "woman"], { cwd: ws.dir, env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.json();
    const types = new Set(lines.map((l) => l.type));
    for (const t of ["train.start", "train.progress", "train.checkpoint", "train.sample", "summary"]) expect(types).toContain(t);
    const last = lines.at(-1);
    expect(last).toMatchObject({ type: "summary", ok: true, name: "jane", backend: "local", alreadyTrained: false, trigger: "ohwx", recipe: "flux1-dev", steps: 20 });
    const progress = lines.filter((l) => l.type === "train.progress");
    expect(progress.at(-1)).toMatchObject({ name: "jane", step: 20, total: 20, percent: 100 });

    const identity = JSON.parse(await readFile(join(ws.home, "identities", "jane", "identity.json"), "utf8")) as Identity & { selfies: { embedding: { count: number; dims: number; centroid: number[] } } };
    expect(identity).toMatchObject({ name: "jane", trigger: "ohwx", classWord: "woman", backend: "local", baseModel: "black-forest-labs/FLUX.1-dev", recipe: "flux1-dev" });
    expect(identity.lora.path).toBe(join(ws.home, "identities", "jane", "training", "jane", "jane.safetensors"));
    expect(identity.lora.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(identity.lora.sha256).toBe(last?.sha256);
    expect(identity.dataset.images).toBeGreaterThanOrEqual(6);
    expect(identity.dataset.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(identity.selfies.usable).toBe(identity.dataset.images);
    expect(identity.selfies.embedding.count).toBe(identity.selfies.usable);
    expect(identity.selfies.embedding.centroid.length).toBe(identity.selfies.embedding.dims);
    expect(Date.parse(identity.createdAt)).not.toBeNaN();

    // The prepared set is what ai-toolkit trained on; captions carry trigger and class.
    const images = await readdir(join(ws.home, "identities", "jane", "dataset", "images"));
    const caption = await readFile(join(ws.home, "identities", "jane", "dataset", "images", images.find((f) => f.endsWith(".txt")) ?? ""), "utf8");
    expect(caption).toMatch(/^ohwx woman, /);
    const job = await readFile(join(ws.home, "identities", "jane", "training", "jane.job.yaml"), "utf8");
    expect(job).toContain(`folder_path: ${join(ws.home, "identities", "jane", "dataset", "images")}`);
  });

  it("does not train a finished identity again", async () => {
    const before = (await recordedRuns()).length;
    const r = await train("jane");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("identity jane is already trained");
    expect((await recordedRuns()).length).toBe(before);
  });

  it("lists, shows and removes identities", async () => {
    const list = await runCli(["identities", "list"], { cwd: ws.dir, env });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+TRIGGER\s+MODEL\s+BACKEND\s+CREATED\njane\s+ohwx\s+flux1-dev\s+local\s+\d{4}-\d\d-\d\d/);
    const show = await runCli(["--json", "identities", "show", "jane"], { cwd: ws.dir, env });
    const summary = show.json().at(-1) as unknown as { identity: Identity };
    expect(summary.identity.lora.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.identity.selfies.embedding).not.toHaveProperty("centroid");
    const missing = await runCli(["identities", "show", "jame"], { cwd: ws.dir, env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("did you mean jane?");
    const refused = await runCli(["identities", "rm", "jane"], { cwd: ws.dir, env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    const asked: string[] = [];
    const declined = await runCli(["identities", "rm", "jane"], { cwd: ws.dir, env, tty: true, confirm: async (q) => (asked.push(q), false) });
    expect(declined.code).toBe(0);
    expect(asked[0]).toMatch(/^Remove identity jane \(.*MB\)\?$/);
    await access(join(ws.home, "identities", "jane", "identity.json"));
  });

  it("--dry-run prints the exact YAML and command and writes nothing", async () => {
    const r = await train("dryrun", ["--dry-run", "--model", "flux2-klein-4b", "--rank", "24", "--trigger", "zxq", "--gpu", "0"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`# ${join(ws.home, "identities", "dryrun", "training", "dryrun.job.yaml")}`);
    expect(r.stdout).toContain("arch: flux2_klein_4b");
    expect(r.stdout).toContain("linear: 24");
    expect(r.stdout).toContain("trigger_word: zxq");
    expect(r.stdout).toMatch(/# command\n\S+\/venv\/bin\/python \S+\/run\.py \S+dryrun\.job\.yaml -l \S+\/log\.txt/);
    expect(r.stderr).toContain("CUDA_VISIBLE_DEVICES=0");
    await expect(access(join(ws.home, "identities", "dryrun"))).rejects.toThrow();
  });

  it("--dry-run --json gives the config, command and environment as data", async () => {
    const r = await runCli(["--json", "train", "./selfies", "--name", "dry2", "--backend", "local", "--dry-run"], { cwd: ws.dir, env: { ...env, HF_TOKEN: "hf_secret" } });
    expect(r.code).toBe(0);
    const [summary, ...rest] = r.json();
    expect(rest).toEqual([]);
    expect(summary).toMatchObject({ type: "summary", ok: true, dryRun: true, name: "dry2", backend: "local", env: { PYTHONUNBUFFERED: "1" } });
    expect((summary?.config as { config: { name: string } }).config.name).toBe("dry2");
    expect(r.stdout).not.toContain("hf_secret");
  });

  it("says what is missing when ai-toolkit is not set up (exit 3)", async () => {
    const r = await train("nokit", [], { AI_TOOLKIT_DIR: undefined });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("--backend local is not ready: ai-toolkit missing");
    expect(r.stderr).not.toContain("python:");
    expect(r.stderr).toContain("git clone https://github.com/ostris/ai-toolkit");
  });

  it("rejects a bad set unless --force (exit 6)", async () => {
    const r = await runCli(["train", "./few", "--name", "few", "--backend", "local", "--steps", "20"], { cwd: ws.dir, env });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("--force");
    const forced = await runCli(["train", "./few", "--name", "few", "--backend", "local", "--steps", "20", "--force", "--sample-every", "0"], { cwd: ws.dir, env });
    expect(forced.code).toBe(0);
    const identity = JSON.parse(await readFile(join(ws.home, "identities", "few", "identity.json"), "utf8")) as { dataset: { images: number }; selfies: { verdict: string } };
    expect(identity).toMatchObject({ dataset: { images: 1 }, selfies: { verdict: "reject" } });
  });

  it("shows the exact switch for a CUDA out-of-memory failure (exit 5)", async () => {
    const r = await train("oom", [], { FAKE_AITK_OOM_ON_LOAD: "1" });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("training ran out of GPU memory while loading the model");
    expect(r.stderr).toContain("re-run the same command with --low-vram");
    expect(r.stderr).toContain("CUDA out of memory. Tried to allocate");
  });

  it("stops on Ctrl-C (exit 130), keeps the checkpoint, and the same command resumes", async () => {
    const controller = new AbortController();
    const out = join(ws.home, "identities", "carol", "training", "carol");
    const watcher = (async () => {
      for (let i = 0; i < 600 && !controller.signal.aborted; i++) {
        const files = await readdir(out).catch(() => [] as string[]);
        if (files.includes("carol_000000010.safetensors")) controller.abort(new Error("received SIGINT"));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const stopped = await train("carol", [], { FAKE_AITK_HANG_AT_STEP: "13" }, controller.signal);
    await watcher;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain("last checkpoint kept: step 10");
    expect(stopped.stderr).toContain("re-run the same command to resume");

    const resumed = await train("carol");
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain("resuming the training of carol");
    expect(resumed.stderr).toContain("resuming from step 10");
    expect(resumed.stderr).toContain("identity carol registered");
    const runs = (await recordedRuns()).filter((run) => run.argv.some((a) => a.includes("carol")));
    expect(runs.length).toBe(2);
  });

  // Changing the rank mid-training is refused rather than resumed into a mismatched checkpoint.
  it("refuses to resume with different options, and --restart starts over", async () => {
    const controller = new AbortController();
    const out = join(ws.home, "identities", "erin", "training", "erin");
    const watcher = (async () => {
      for (let i = 0; i < 600 && !controller.signal.aborted; i++) {
        if ((await readdir(out).catch(() => [] as string[])).includes("erin_000000005.safetensors")) controller.abort(new Error("received SIGINT"));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    expect((await train("erin", [], { FAKE_AITK_HANG_AT_STEP: "8" }, controller.signal)).code).toBe(130);
    await watcher;
    const changed = await train("erin", ["--rank", "32"]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain("--rank was 16, now 32");
    expect(changed.stderr).toContain("--restart");
    const restarted = await train("erin", ["--rank", "32", "--restart"]);
    expect(restarted.code).toBe(0);
    expect(restarted.stderr).not.toContain("resuming from step");
  });

  it("identities rm --yes removes the whole identity folder", async () => {
    const r = await runCli(["--json", "identities", "rm", "jane", "--yes"], { cwd: ws.dir, env });
    expect(r.code).toBe(0);
    expect(r.json().at(-1)).toMatchObject({ type: "summary", removed: true, name: "jane", dir: join(ws.home, "identities", "jane") });
    await expect(access(join(ws.home, "identities", "jane"))).rejects.toThrow();
    const list = await runCli(["--json", "identities", "list"], { cwd: ws.dir, env });
    const names = list.json().filter((l) => l.type === "identity").map((l) => l.name);
    expect(names).toEqual(["carol", "erin", "few"]);
  });
});
