/**
 * Finds ai-toolkit, its Python and the GPU, and says what is missing and how to install it.
 * Used by `train --backend local` before it starts, and by `doctor`.
 * - checkout: --ai-toolkit > AI_TOOLKIT_DIR > headshot.config.yaml (settings.ts);
 * - Python: AI_TOOLKIT_PYTHON (or config) > <dir>/venv/bin/python > <dir>/.venv/bin/python > python3
 *   (there is no pip package, only clone + venv: ostris/ai-toolkit README.md, requirements.txt);
 * - GPU: nvidia-smi name and free memory, which choose quantize / low_vram (plan.ts).
 */
import { access, stat } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { DependencyError } from "../../errors.js";
import type { GlobalSettings } from "../../settings/settings.js";
import type { GpuInfo, PreflightCheck, PreflightReport } from "../types.js";

export interface AiToolkitLocation {
  dir: string;
  runPy: string;
  python: string;
  /** Where the interpreter came from, for messages. */
  pythonFrom: string;
}

export const SETUP_HINT =
  "git clone https://github.com/ostris/ai-toolkit && cd ai-toolkit && python3 -m venv venv && venv/bin/pip install torch torchvision --index-url https://download.pytorch.org/whl/cu130 && venv/bin/pip install -r requirements.txt; then pass --ai-toolkit <dir> or set AI_TOOLKIT_DIR (README: \"Setting up ai-toolkit on a GPU box\")";

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, 1 /* X_OK */);
    return await isFile(path);
  } catch {
    return false;
  }
}

function venvPython(root: string): string {
  return process.platform === "win32" ? join(root, "Scripts", "python.exe") : join(root, "bin", "python");
}

/** The interpreter to run run.py with, and where that choice came from. */
export async function findPython(dir: string | undefined, settings: Pick<GlobalSettings, "aiToolkitPython">): Promise<{ python: string; from: string }> {
  const configured = settings.aiToolkitPython;
  if (configured.value !== undefined) return { python: configured.value, from: configured.from ?? configured.source };
  if (dir !== undefined) {
    for (const venv of ["venv", ".venv"]) {
      const candidate = venvPython(join(dir, venv));
      if (await isExecutable(candidate)) return { python: candidate, from: `${venv}/ in the checkout` };
    }
  }
  return { python: process.platform === "win32" ? "python" : "python3", from: "PATH (no venv/ or .venv/ in the checkout)" };
}

/** Parses `nvidia-smi --query-gpu=index,name,memory.total,memory.free --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(stdout: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const parts = line.split(",").map((p) => p.trim());
    if (parts.length < 4) continue;
    const [index, name, total, free] = parts as [string, string, string, string];
    const gpu = { index: Number(index), name, totalMiB: Number(total), freeMiB: Number(free) };
    if (Number.isFinite(gpu.index) && Number.isFinite(gpu.totalMiB) && Number.isFinite(gpu.freeMiB)) gpus.push(gpu);
  }
  return gpus;
}

export async function queryGpu(
  env: Record<string, string | undefined>,
  gpuIds: string | undefined,
  signal?: AbortSignal,
): Promise<{ gpu?: GpuInfo; error?: string }> {
  const args = ["--query-gpu=index,name,memory.total,memory.free", "--format=csv,noheader,nounits"];
  // With --gpu 1,2 training runs on GPU 1 first; ask about that one.
  const first = gpuIds?.split(",")[0];
  if (first !== undefined) args.push("-i", first);
  const result = await execa("nvidia-smi", args, {
    env,
    extendEnv: false,
    reject: false,
    timeout: 20_000,
    ...(signal ? { cancelSignal: signal } : {}),
  });
  if (result.failed) {
    const reason = (result as { code?: string }).code === "ENOENT" ? "nvidia-smi not found" : `${result.stdout || result.stderr || result.shortMessage}`.trim().split("\n")[0];
    return { error: reason ?? "nvidia-smi failed" };
  }
  const gpu = parseNvidiaSmi(result.stdout)[0];
  return gpu ? { gpu } : { error: `nvidia-smi listed no GPU${first !== undefined ? ` with index ${first}` : ""}` };
}

export interface PreflightOptions {
  settings: Pick<GlobalSettings, "aiToolkitDir" | "aiToolkitPython">;
  env: Record<string, string | undefined>;
  gpuIds?: string;
  signal?: AbortSignal;
}

export interface AiToolkitPreflight extends PreflightReport {
  toolkit?: AiToolkitLocation;
}

/** Runs every check (collecting all problems) and never throws for a missing piece. */
export async function preflightAiToolkit(options: PreflightOptions): Promise<AiToolkitPreflight> {
  const checks: PreflightCheck[] = [];
  const dirSetting = options.settings.aiToolkitDir;
  const dir = dirSetting.value;
  let runPy: string | undefined;
  if (dir === undefined) {
    checks.push({ id: "ai-toolkit", ok: false, detail: "ai-toolkit location not set", hint: SETUP_HINT });
  } else if (!(await isFile(join(dir, "run.py")))) {
    checks.push({
      id: "ai-toolkit",
      ok: false,
      detail: `no run.py in ${dir} (${dirSetting.from ?? dirSetting.source})`,
      hint: `point --ai-toolkit / AI_TOOLKIT_DIR at the root of an ostris/ai-toolkit clone; to install: ${SETUP_HINT}`,
    });
  } else {
    runPy = join(dir, "run.py");
    checks.push({ id: "ai-toolkit", ok: true, detail: `${dir} (${dirSetting.from ?? dirSetting.source})` });
  }

  const { python, from } = await findPython(dir, options.settings);
  let pythonOk = false;
  // Without a checkout and without AI_TOOLKIT_PYTHON there is nothing meaningful to probe.
  if (runPy !== undefined || options.settings.aiToolkitPython.value !== undefined) {
    pythonOk = await probePython(python, from, dir, options, checks);
  }

  const { gpu, error } = await queryGpu(options.env, options.gpuIds, options.signal);
  if (gpu) {
    checks.push({ id: "gpu", ok: true, detail: `GPU ${gpu.index}: ${gpu.name}, ${gpu.freeMiB} of ${gpu.totalMiB} MiB free` });
  } else {
    checks.push({
      id: "gpu",
      ok: false,
      detail: `no usable NVIDIA GPU (${error ?? "unknown"})`,
      hint: "install the NVIDIA driver (nvidia-smi must work), check --gpu, or train in the cloud with --backend replicate",
    });
  }
  const ok = checks.every((c) => c.ok);
  return {
    ok,
    checks,
    ...(gpu ? { gpu } : {}),
    ...(runPy && dir && pythonOk ? { toolkit: { dir, runPy, python, pythonFrom: from } } : {}),
  };
}

/** Throws one DependencyError (exit 3) listing every failed check with its fix. */
export function assertPreflight(report: AiToolkitPreflight): asserts report is AiToolkitPreflight & { toolkit: AiToolkitLocation; gpu: GpuInfo } {
  const failed = report.checks.filter((c) => !c.ok);
  if (failed.length === 0 && report.toolkit && report.gpu) return;
  throw new DependencyError(`local training is not ready: ${failed.map((c) => c.id).join(", ")} missing`, {
    code: "E_AI_TOOLKIT_MISSING",
    details: failed.flatMap((c) => [`${c.id}: ${c.detail}`, ...(c.hint ? [`  fix: ${c.hint}`] : [])]),
    hint: "fix the items above (README: \"Setting up ai-toolkit on a GPU box\"), or use --backend replicate",
  });
}

/** Runs the interpreter once: does it start, is it 3.10+, is torch importable (without importing it: slow). */
async function probePython(python: string, from: string, dir: string | undefined, options: PreflightOptions, checks: PreflightCheck[]): Promise<boolean> {
  const probe = await execa(
    python,
    ["-c", "import sys, importlib.util as u; print(sys.version.split()[0]); print('torch' if u.find_spec('torch') else 'no-torch')"],
    {
      env: options.env,
      extendEnv: false,
      reject: false,
      timeout: 60_000,
      ...(dir ? { cwd: dir } : {}),
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    },
  );
  if (probe.failed) {
    checks.push({
      id: "python",
      ok: false,
      detail: `cannot run ${python} (from ${from}): ${String(probe.stderr || probe.shortMessage || "").trim().split("\n").pop() ?? ""}`,
      hint: "create the checkout's venv (python3 -m venv venv) or set AI_TOOLKIT_PYTHON to its interpreter",
    });
  } else {
    const [version = "", torch = ""] = probe.stdout.trim().split(/\r?\n/);
    const [major = 0, minor = 0] = version.split(".").map(Number);
    if (major < 3 || (major === 3 && minor < 10)) {
      checks.push({ id: "python", ok: false, detail: `${python} is Python ${version}; ai-toolkit needs 3.10 or newer`, hint: "create the venv with a newer Python (python3.11 -m venv venv)" });
    } else if (torch !== "torch") {
      checks.push({
        id: "python",
        ok: false,
        detail: `${python} (Python ${version}, from ${from}) has no torch: ai-toolkit's requirements are not installed there`,
        hint: `install them into the checkout's venv (${dir ?? "<ai-toolkit>"}/venv/bin/pip install torch torchvision --index-url https://download.pytorch.org/whl/cu130 && .../pip install -r requirements.txt), or set AI_TOOLKIT_PYTHON to the right interpreter`,
      });
    } else {
      checks.push({ id: "python", ok: true, detail: `${python} (Python ${version}, torch found; from ${from})` });
      return true;
    }
  }
  return false;
}
