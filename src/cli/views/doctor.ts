/** How `doctor` shows itself: one line per check (and its fix), a `check` event each under --json. */
import type { DoctorCheck } from "../../doctor/checks.js";
import type { DoctorEvent, DoctorResult } from "../../doctor/doctor.js";
import type { Reporter } from "../reporter.js";

const SYMBOLS: Record<DoctorCheck["status"], string> = { ok: "ok     ", missing: "missing", warn: "warn   " };

export function doctorEventView(r: Reporter): (event: DoctorEvent) => void {
  return ({ check }) => {
    r.event("check", { ...check });
    const colour = check.status === "ok" ? "green" : check.status === "warn" || !check.required ? "yellow" : "red";
    r.result(`${r.style(colour, SYMBOLS[check.status])}  ${check.label.padEnd(24)} ${check.detail}`);
    if (check.fix && check.status !== "ok") r.result(`${" ".repeat(9)}${" ".repeat(24)} ${r.style("cyan", `fix: ${check.fix}`)}`);
  };
}

export function renderDoctorSummary(r: Reporter, result: DoctorResult): void {
  r.summary({ checks: result.checks.map(({ id, status, required }) => ({ id, status, required })) });
}
