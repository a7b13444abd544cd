/**
 * `headshot doctor`: what is installed and configured, each line ok / missing / warn with the fix.
 * Secrets are only ever reported as present or missing.
 */
import { constants } from "node:fs";
import { access } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { resolveGenOut } from "../settings/command-defaults.js";
import { describeSource, type GlobalSettings } from "../settings/settings.js";
import { checkWritableDir } from "../util/writable.js";

export type CheckStatus = "ok" | "missing" | "warn";

export interface DoctorCheck {
  id: string;
  label: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** Needed by every command (Node, sharp, a writable home): a missing one fails doctor. */
  required: boolean;
}

export interface DoctorDeps {
  env: Record<string, string | undefined>;
  nodeVersion: string;
  /** Extra checks (e.g. the ai-toolkit preflight) contributed by other modules. */
  extraChecks?: Array<(settings: GlobalSettings) => Promise<DoctorCheck[]>>;
}

function nodeCheck(version: string): DoctorCheck {
  const [major = 0, minor = 0] = version.replace(/^v/, "").split(".").map(Number);
  const ok = major > 20 || (major === 20 && minor >= 19);
  return {
    id: "node",
    label: "Node.js",
    status: ok ? "ok" : "missing",
    detail: version,
    ...(ok ? {} : { fix: "install Node.js 20.19 or newer (an LTS from nodejs.org)" }),
    required: true,
  };
}

async function sharpCheck(): Promise<DoctorCheck> {
  try {
    const { default: sharp } = await import("sharp");
    return { id: "sharp", label: "sharp (image decoding)", status: "ok", detail: `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`, required: true };
  } catch (error) {
    return {
      id: "sharp",
      label: "sharp (image decoding)",
      status: "missing",
      detail: (error as Error).message.split("\n")[0] ?? "failed to load",
      fix: "reinstall dependencies with `npm ci` on this machine (sharp ships prebuilt binaries per platform)",
      required: true,
    };
  }
}

async function faceModelsCheck(): Promise<DoctorCheck> {
  try {
    const require = createRequire(import.meta.url);
    // `@vladmandic/human/package.json` is hidden by the package's `exports` map (issue 15): resolve
    // its exported main entry (dist/human.node.js) and take the models folder beside dist/, as the
    // face workers do (src/selfies/faces.ts packagePaths).
    const main = require.resolve("@vladmandic/human");
    const models = join(dirname(main), "..", "models");
    await access(join(models, "facemesh.json"), constants.R_OK);
    await access(join(models, "blazeface.json"), constants.R_OK);
    // The likeness descriptor and the landmarks its chip needs (issue 18).
    const faceApi = join(dirname(require.resolve("@vladmandic/face-api/package.json")), "model");
    for (const name of ["ssd_mobilenetv1_model", "face_landmark_68_model", "face_recognition_model"]) await access(join(faceApi, `${name}-weights_manifest.json`), constants.R_OK);
    return { id: "faces", label: "face models (offline)", status: "ok", detail: models, required: false };
  } catch {
    return {
      id: "faces",
      label: "face models (offline)",
      status: "missing",
      detail: "@vladmandic/human or @vladmandic/face-api models not found",
      fix: "reinstall dependencies with `npm ci`; check needs them",
      required: false,
    };
  }
}

function tokenCheck(settings: GlobalSettings): DoctorCheck {
  const base = settings.replicateBaseUrl.value ? ` (API ${settings.replicateBaseUrl.value}, ${describeSource(settings.replicateBaseUrl)})` : "";
  return settings.replicateTokenPresent
    ? { id: "replicate-token", label: "Replicate token", status: "ok", detail: `REPLICATE_API_TOKEN is set${base}`, required: false }
    : {
        id: "replicate-token",
        label: "Replicate token",
        status: "missing",
        detail: "REPLICATE_API_TOKEN is not set (needed for --backend replicate)",
        fix: "create a token at https://replicate.com/account/api-tokens, then `export REPLICATE_API_TOKEN=...` (in CI: a secret)",
        required: false,
      };
}

async function dirCheck(id: string, label: string, dir: string, required: boolean, fix: string): Promise<DoctorCheck> {
  const problem = await checkWritableDir(dir);
  return problem
    ? { id, label, status: "missing", detail: `${dir}: ${problem.path} is ${problem.reason === "not-a-directory" ? "a file" : "not writable"}`, fix, required }
    : { id, label, status: "ok", detail: `${dir} is writable`, required };
}

export async function runDoctorChecks(settings: GlobalSettings, deps: DoctorDeps): Promise<DoctorCheck[]> {
  // Where gen writes by default: the config's `out:`, else the `headshots/` folder it makes here.
  const out = resolveGenOut(undefined, settings).value ?? join(settings.cwd, "headshots");
  const checks: DoctorCheck[] = [
    nodeCheck(deps.nodeVersion),
    await sharpCheck(),
    await faceModelsCheck(),
    {
      id: "config",
      label: "project config",
      status: "ok",
      detail: settings.projectConfigPath ?? "none (optional: headshot.config.yaml in this folder or a parent)",
      required: false,
    },
    await dirCheck("home", "HEADSHOT_HOME", settings.home.value, true, "set HEADSHOT_HOME to a folder you can write to"),
    await dirCheck("out", "output folder", out, false, "pass --out to gen with a writable folder, or set out: in headshot.config.yaml"),
    tokenCheck(settings),
  ];
  for (const extra of deps.extraChecks ?? []) checks.push(...(await extra(settings)));
  return checks;
}
