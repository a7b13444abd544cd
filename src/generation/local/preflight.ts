/**
 * Before the model loads (minutes, tens of GB): does the chosen Python start, and does it have the
 * libraries headshot_generate.py imports? One short probe that imports nothing heavy (find_spec only),
 * so a wrong interpreter fails in a second with exit 3 and the exact fix, like training's preflight
 * (src/training/ai-toolkit/locate.ts probePython).
 */
import { execa } from "execa";
import { DependencyError } from "../../errors.js";

/** Modules headshot_generate.py needs in the interpreter (PIL is not imported by it). */
export const REQUIRED_MODULES = ["torch", "diffusers", "safetensors"] as const;

const PROBE = [
  "import sys, importlib.util as u",
  "print(sys.version.split()[0])",
  `print(','.join(m for m in ${JSON.stringify(REQUIRED_MODULES)} if u.find_spec(m) is None))`,
].join("\n");

export interface PythonSource {
  python: string;
  /** Where the interpreter choice came from (AI_TOOLKIT_PYTHON, venv/ in the checkout, PATH...). */
  from: string;
}

export interface PreflightOptions {
  env: Record<string, string | undefined>;
  extendEnv?: boolean;
  signal?: AbortSignal;
}

const FIX =
  "set AI_TOOLKIT_PYTHON to ai-toolkit's venv python (e.g. ~/ai-toolkit/venv/bin/python), or pass --ai-toolkit <dir> / set AI_TOOLKIT_DIR to a checkout whose venv/ has torch and diffusers (README: \"Generating on your own GPU\")";

/** Throws DependencyError (exit 3) when the interpreter cannot run headshot_generate.py. */
export async function preflightPython(source: PythonSource, options: PreflightOptions): Promise<{ version: string }> {
  const probe = await execa(source.python, ["-c", PROBE], {
    env: options.env,
    extendEnv: options.extendEnv ?? true,
    reject: false,
    timeout: 60_000,
    ...(options.signal ? { cancelSignal: options.signal } : {}),
  });
  if (options.signal?.aborted) return { version: "" };
  if (probe.failed) {
    const reason = (probe as { code?: string }).code === "ENOENT" ? "not found" : String(probe.stderr || probe.shortMessage || "").trim().split("\n").pop();
    throw new DependencyError(`Cannot run Python ${source.python} (from ${source.from}): ${reason ?? "failed"}`, {
      code: "E_PYTHON_NOT_FOUND",
      hint: FIX,
    });
  }
  const [version = "", missingLine = ""] = probe.stdout.trim().split(/\r?\n/);
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major < 3 || (major === 3 && minor < 10)) {
    throw new DependencyError(`${source.python} (from ${source.from}) is Python ${version}; local generation needs 3.10 or newer`, {
      code: "E_LOCAL_GEN_DEPENDENCY",
      hint: FIX,
    });
  }
  const missing = missingLine.split(",").filter(Boolean);
  if (missing.length > 0) {
    throw new DependencyError(`${source.python} (Python ${version}, from ${source.from}) has no ${missing.join(", ")}: it is not ai-toolkit's Python environment`, {
      code: "E_LOCAL_GEN_DEPENDENCY",
      hint: FIX,
    });
  }
  return { version };
}
