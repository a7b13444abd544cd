/**
 * The ai-toolkit preflight (src/training/ai-toolkit/locate.ts) as `headshot doctor` lines. Local
 * training is optional, so none of these fail doctor. Doctor asks training, never the reverse.
 */
import type { GlobalSettings } from "../settings/settings.js";
import { preflightAiToolkit } from "../training/ai-toolkit/locate.js";
import type { DoctorCheck } from "./checks.js";

const LABELS: Record<string, string> = { "ai-toolkit": "ai-toolkit checkout", python: "ai-toolkit Python (torch)", gpu: "GPU for local training" };

export async function aiToolkitDoctorChecks(settings: GlobalSettings, env: Record<string, string | undefined>): Promise<DoctorCheck[]> {
  const report = await preflightAiToolkit({ settings, env });
  return report.checks.map((check) => ({
    id: `ai-toolkit-${check.id}`,
    label: LABELS[check.id] ?? check.id,
    status: check.ok ? "ok" : "missing",
    detail: check.detail,
    ...(check.hint ? { fix: check.hint } : {}),
    required: false,
  }));
}
