/** The doctor use case: run the checks, print one line each, fail only on required ones. */
import { DependencyError } from "../errors.js";
import type { CommandContext } from "./context.js";
import { runDoctorChecks, type DoctorCheck } from "../doctor/checks.js";

const SYMBOLS: Record<DoctorCheck["status"], string> = { ok: "ok     ", missing: "missing", warn: "warn   " };

export async function runDoctor(ctx: CommandContext, options: { aiToolkit?: string }): Promise<void> {
  const settings = await ctx.settings(options.aiToolkit ? { aiToolkit: options.aiToolkit } : {});
  const { aiToolkitDoctorChecks } = await import("../training/ai-toolkit/doctor-checks.js");
  const checks = await runDoctorChecks(settings, {
    env: ctx.env,
    // ai-toolkit, its Python and the GPU (nvidia-smi) come from the local trainer's own preflight.
    extraChecks: [aiToolkitDoctorChecks(ctx.env)],
    nodeVersion: process.version,
  });
  const r = ctx.reporter;
  for (const check of checks) {
    r.event("check", { ...check });
    const colour = check.status === "ok" ? "green" : check.status === "warn" || !check.required ? "yellow" : "red";
    r.result(`${r.style(colour, SYMBOLS[check.status])}  ${check.label.padEnd(24)} ${check.detail}`);
    if (check.fix && check.status !== "ok") r.result(`${" ".repeat(9)}${" ".repeat(24)} ${r.style("cyan", `fix: ${check.fix}`)}`);
  }
  const failed = checks.filter((c) => c.required && c.status === "missing");
  if (failed.length) {
    throw new DependencyError(`${failed.length} required part${failed.length === 1 ? " is" : "s are"} missing: ${failed.map((c) => c.label).join(", ")}`, {
      code: "E_DOCTOR",
      hint: failed.map((c) => c.fix).filter(Boolean).join("; "),
    });
  }
  r.summary({ checks: checks.map(({ id, status, required }) => ({ id, status, required })) });
}
