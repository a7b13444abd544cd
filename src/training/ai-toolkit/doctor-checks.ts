/**
 * The ai-toolkit preflight as `headshot doctor` lines (doctor-checks.ts `extraChecks` seam).
 * Local training is optional, so none of these fail doctor.
 */
import type { DoctorCheck } from "../../doctor/checks.js";
import type { GlobalSettings } from "../../settings/settings.js";
import { preflightAiToolkit } from "./locate.js";

const LABELS: Record<string, string> = { "ai-toolkit": "ai-toolkit checkout", python: "ai-toolkit Python (torch)", gpu: "GPU for local training" };

export function aiToolkitDoctorChecks(env: Record<string, string | undefined>): (settings: GlobalSettings) => Promise<DoctorCheck[]> {
  return async (settings) => {
    const report = await preflightAiToolkit({ settings, env });
    return report.checks.map((check) => ({
      id: `ai-toolkit-${check.id}`,
      label: LABELS[check.id] ?? check.id,
      status: check.ok ? "ok" : "missing",
      detail: check.detail,
      ...(check.hint ? { fix: check.hint } : {}),
      required: false,
    }));
  };
}
