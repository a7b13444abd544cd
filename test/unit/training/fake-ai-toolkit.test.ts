/**
 * The fake ai-toolkit itself must behave like run.py as ostris/ai-toolkit documents it, or the
 * trainer tests prove nothing. These run it directly with hand-written configs.
 */
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderJobYaml } from "../../../src/training/ai-toolkit/config.js";
import { readTrainingStep } from "../../../src/training/ai-toolkit/safetensors.js";
import { buildTrainPlan } from "../../../src/training/plan.js";
import { fakeEnv, makeDataset, makeFakeCheckout } from "../../support/fake-ai-toolkit/harness.js";

let root: string;
let toolkit: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "headshot-fake-aitk-"));
  toolkit = await makeFakeCheckout(root);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function runPy(args: string[], env: Record<string, string | undefined> = {}) {
  return execa(join(toolkit, "venv", "bin", "python"), [join(toolkit, "run.py"), ...args], { cwd: toolkit, env: fakeEnv(env), extendEnv: false, reject: false });
}

let n = 0;
async function jobFile(mutate: (plan: ReturnType<typeof buildTrainPlan>) => ReturnType<typeof buildTrainPlan> = (p) => p, images = 3): Promise<{ file: string; plan: ReturnType<typeof buildTrainPlan> }> {
  const home = join(root, `h${++n}`);
  const datasetDir = await makeDataset(join(home, "ds"), images);
  const plan = mutate(buildTrainPlan({ name: "jane", home, selfiesDir: home, steps: 12, datasetDir }));
  const file = join(home, "job.yaml");
  await writeFile(file, renderJobYaml(plan));
  return { file, plan };
}

describe("fake run.py", () => {
  it("fails a config without config.name like the real one: message, Result block, traceback, exit 1", async () => {
    const file = join(root, "bad.yaml");
    await writeFile(file, "job: extension\nconfig:\n  process:\n    - type: sd_trainer\n");
    const r = await runPy([file]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("Error running job: config file must have a config.name key");
    expect(r.stdout).toContain("Error running on_error: cannot access local variable 'job'");
    expect(r.stdout).toMatch(/Result:\n - 0 completed jobs\n - 1 failure/);
    expect(r.stderr).toContain("Traceback (most recent call last)");
    // -r turns the failure into exit 0 (which is why headshot never passes it).
    expect((await runPy([file, "-r"])).exitCode).toBe(0);
  });

  it("expands ${VAR} over the raw text and fails on an unset one", async () => {
    const file = join(root, "env.yaml");
    await writeFile(file, "# uses ${FAKE_UNSET_VAR}\njob: extension\n");
    const r = await runPy([file]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("Environment variable FAKE_UNSET_VAR not set");
  });

  it("finds configs in <repo>/config by bare name", async () => {
    const r = await runPy(["does_not_exist"]);
    expect(r.stdout).toContain("Could not find config file does_not_exist");
  });

  it("rejects an unknown process type (ostris/ai-toolkit#437) and an empty dataset (ostris/ai-toolkit#439)", async () => {
    const bad = join(root, "type.yaml");
    await writeFile(bad, "job: extension\nconfig:\n  name: x\n  process:\n    - type: diffusion_trainer_v9\n");
    expect((await runPy([bad])).stdout).toContain("Unknown process type: diffusion_trainer_v9");
    const { file, plan } = await jobFile((p) => p, 0);
    const r = await runPy([file]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`AssertionError: no images found in ${plan.paths.datasetDir}`);
  });

  it("prunes checkpoints to max_step_saves_to_keep and names samples <ms>__<step>_<i>", async () => {
    const { file, plan } = await jobFile((p) => ({ ...p, saveEvery: 2, maxCheckpoints: 2, sampleEvery: 4, samplePrompts: ["[trigger] a", "[trigger] b"] }));
    const r = await runPy([file]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toContain("Result:"); // success prints no summary
    const files = (await readdir(plan.paths.outputDir)).sort();
    expect(files).toEqual(["config.yaml", "jane.safetensors", "jane_000000008.safetensors", "jane_000000010.safetensors", "optimizer.pt", "samples"]);
    expect(r.stdout).toContain("Removing old save:");
    expect(await readTrainingStep(join(plan.paths.outputDir, "jane_000000010.safetensors"))).toBe(10);
    const samples = (await readdir(join(plan.paths.outputDir, "samples"))).filter((f) => f.endsWith(".jpg"));
    expect(samples.length).toBe(6);
    expect(samples.every((f) => /^\d{13}__0000000(04|08|12)_[01]\.jpg$/.test(f))).toBe(true);
    // The training bar goes to stderr, '\r'-separated, in tqdm's default format.
    expect(r.stderr).toMatch(/\rjane: 100%\|██████████\| 12\/12 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+(it\/s|s\/it), lr: 1\.0e-04 loss: [\d.e+-]+\]/);
    expect(r.stderr).toContain("\rCaching latents to disk:");
    expect(r.stderr).toContain("\rGenerating Images:");
  });

  it("exits 0 with a 'Job stopped' banner on SIGINT and writes no checkpoint", async () => {
    const { file, plan } = await jobFile((p) => ({ ...p, saveEvery: 100 }));
    const child = execa(join(toolkit, "venv", "bin", "python"), [join(toolkit, "run.py"), file], {
      cwd: toolkit,
      env: fakeEnv({ FAKE_AITK_HANG_AT_STEP: "5", PYTHONUNBUFFERED: "1" }),
      extendEnv: false,
      reject: false,
    });
    let sent = false;
    child.stderr?.on("data", (chunk: Buffer) => {
      // Once: a second SIGINT during its cleanup would kill it by signal instead.
      if (!sent && chunk.toString().includes(" 4/12 ")) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    const r = await child;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("Job stopped");
    expect((await readdir(plan.paths.outputDir)).filter((f) => f.endsWith(".safetensors"))).toEqual([]);
  });
});
