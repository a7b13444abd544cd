/**
 * The `doctor` use case: run every check (the base ones and ai-toolkit's preflight), tell the
 * caller about each as it is known, and fail only when something every command needs is missing.
 */
import { DependencyError } from "../errors.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import type { UseCaseIo } from "../use-case.js";
import { runDoctorChecks, type DoctorCheck } from "./checks.js";

export interface DoctorRequest {
  settings: GlobalSettings;
  env: Env;
  /** `process.version` of the running Node. */
  nodeVersion: string;
}

export type DoctorEvent = { type: "doctor.check"; check: DoctorCheck };

export interface DoctorResult {
  checks: DoctorCheck[];
}

export async function runDoctor(request: DoctorRequest, io: UseCaseIo<DoctorEvent>): Promise<DoctorResult> {
  // Loaded here: the ai-toolkit preflight (execa, the GPU query) is not needed by --help.
  const { aiToolkitDoctorChecks } = await import("./ai-toolkit-checks.js");
  const checks = await runDoctorChecks(request.settings, {
    env: request.env,
    extraChecks: [(settings) => aiToolkitDoctorChecks(settings, request.env)],
    nodeVersion: request.nodeVersion,
  });
  for (const check of checks) io.onEvent({ type: "doctor.check", check });
  const failed = checks.filter((c) => c.required && c.status === "missing");
  if (failed.length) {
    throw new DependencyError(`${failed.length} required part${failed.length === 1 ? " is" : "s are"} missing: ${failed.map((c) => c.label).join(", ")}`, {
      code: "E_DOCTOR",
      hint: failed.map((c) => c.fix).filter(Boolean).join("; "),
    });
  }
  return { checks };
}
