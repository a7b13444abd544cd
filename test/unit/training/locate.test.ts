import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findPython, parseNvidiaSmi, preflightAiToolkit, queryGpu } from "../../../src/training/ai-toolkit/locate.js";
import { fakeEnv, makeFakeCheckout, toolkitSettings } from "../../support/fake-ai-toolkit/harness.js";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "headshot-locate-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function sub(name: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

describe("findPython", () => {
  it("prefers AI_TOOLKIT_PYTHON, then venv/, then .venv/, then python3", async () => {
    const withVenv = await makeFakeCheckout(await sub("py-venv"), "venv");
    const withDotVenv = await makeFakeCheckout(await sub("py-dotvenv"), ".venv");
    const without = await makeFakeCheckout(await sub("py-none"), "none");
    expect((await findPython(withVenv, toolkitSettings(withVenv, "/usr/bin/python3.11"))).python).toBe("/usr/bin/python3.11");
    expect((await findPython(withVenv, toolkitSettings(withVenv))).python).toBe(join(withVenv, "venv", "bin", "python"));
    expect((await findPython(withDotVenv, toolkitSettings(withDotVenv))).python).toBe(join(withDotVenv, ".venv", "bin", "python"));
    expect((await findPython(without, toolkitSettings(without))).python).toBe("python3");
  });
});

describe("preflightAiToolkit", () => {
  it("passes with a checkout, its venv Python with torch, and a GPU", async () => {
    const dir = await makeFakeCheckout(await sub("ok"));
    const report = await preflightAiToolkit({ settings: toolkitSettings(dir), env: fakeEnv() });
    expect(report.checks.map((c) => [c.id, c.ok])).toEqual([
      ["ai-toolkit", true],
      ["python", true],
      ["gpu", true],
    ]);
    expect(report.toolkit).toEqual({ dir, runPy: join(dir, "run.py"), python: join(dir, "venv", "bin", "python"), pythonFrom: "venv/ in the checkout" });
    expect(report.gpu).toEqual({ index: 0, name: "NVIDIA GeForce RTX 4090", totalMiB: 24564, freeMiB: 24100 });
  });

  it("says what is missing and how to install it when nothing is set up", async () => {
    const report = await preflightAiToolkit({ settings: toolkitSettings(undefined), env: { PATH: "/usr/bin:/bin" } });
    expect(report.ok).toBe(false);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(byId["ai-toolkit"]).toMatchObject({ ok: false, detail: "ai-toolkit location not set" });
    expect(byId["ai-toolkit"]?.hint).toMatch(/git clone https:\/\/github.com\/ostris\/ai-toolkit.*AI_TOOLKIT_DIR/);
    // Nothing to probe without a checkout or AI_TOOLKIT_PYTHON.
    expect(byId.python).toBeUndefined();
    expect(byId.gpu).toMatchObject({ ok: false, detail: "no usable NVIDIA GPU (nvidia-smi not found)" });
    expect(byId.gpu?.hint).toMatch(/--backend replicate/);
    expect(report.toolkit).toBeUndefined();
  });

  it("rejects a folder that is not an ai-toolkit checkout", async () => {
    const dir = await sub("not-a-checkout");
    await writeFile(join(dir, "README.md"), "hello\n");
    const report = await preflightAiToolkit({ settings: toolkitSettings(dir), env: fakeEnv() });
    expect(report.checks[0]).toMatchObject({ id: "ai-toolkit", ok: false });
    expect(report.checks[0]?.detail).toContain(`no run.py in ${dir}`);
  });

  it("finds a Python without torch (no venv in the checkout: python3 from PATH)", async () => {
    const dir = await makeFakeCheckout(await sub("no-venv"), "none");
    // A PATH whose python3 is a plain interpreter with no site-packages at all.
    const bin = await sub("bare-bin");
    const real = (await execa("python3", ["-c", "import sys; print(sys.executable)"])).stdout.trim();
    await writeFile(join(bin, "python3"), `#!/bin/sh\nexec ${real} -S -I "$@"\n`, { mode: 0o755 });
    const report = await preflightAiToolkit({ settings: toolkitSettings(dir), env: fakeEnv({ PATH: `${bin}:${fakeEnv().PATH}` }) });
    const python = report.checks.find((c) => c.id === "python");
    expect(python?.ok).toBe(false);
    expect(python?.detail).toMatch(/^python3 \(Python 3\.\d+\.\d+, from PATH \(no venv\/ or \.venv\/ in the checkout\)\) has no torch/);
    expect(python?.hint).toContain(`${dir}/venv/bin/pip install torch`);
  });

  it("reports a broken AI_TOOLKIT_PYTHON", async () => {
    const dir = await makeFakeCheckout(await sub("bad-python"));
    const report = await preflightAiToolkit({ settings: toolkitSettings(dir, join(dir, "nope", "python")), env: fakeEnv() });
    const python = report.checks.find((c) => c.id === "python");
    expect(python?.ok).toBe(false);
    expect(python?.detail).toMatch(/cannot run .*nope\/python \(from AI_TOOLKIT_PYTHON\)/);
  });

  it("reports a GPU driver failure", async () => {
    const dir = await makeFakeCheckout(await sub("no-driver"));
    const report = await preflightAiToolkit({ settings: toolkitSettings(dir), env: fakeEnv({ FAKE_GPU: undefined }) });
    expect(report.checks.find((c) => c.id === "gpu")?.detail).toMatch(/couldn't communicate with the NVIDIA driver/);
  });
});

describe("queryGpu and parseNvidiaSmi", () => {
  it("asks nvidia-smi about the GPU chosen with --gpu", async () => {
    const env = fakeEnv({ FAKE_GPU: "NVIDIA GeForce RTX 3090,24576,1200;NVIDIA RTX A6000,49140,48000" });
    expect((await queryGpu(env, undefined)).gpu?.name).toBe("NVIDIA GeForce RTX 3090");
    expect((await queryGpu(env, "1")).gpu).toEqual({ index: 1, name: "NVIDIA RTX A6000", totalMiB: 49140, freeMiB: 48000 });
    expect((await queryGpu(env, "7")).error).toBeTruthy();
  });

  it("parses csv,noheader,nounits output and skips junk", () => {
    expect(parseNvidiaSmi("0, NVIDIA GeForce RTX 4090, 24564, 23000\n1, NVIDIA GeForce RTX 4090, 24564, 100\n[N/A]\n")).toEqual([
      { index: 0, name: "NVIDIA GeForce RTX 4090", totalMiB: 24564, freeMiB: 23000 },
      { index: 1, name: "NVIDIA GeForce RTX 4090", totalMiB: 24564, freeMiB: 100 },
    ]);
  });
});
