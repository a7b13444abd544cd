/** `headshot doctor`: what is installed and configured, with the fix for anything missing. */
import type { Command } from "commander";
import type { Wrap } from "../context.js";

const EXAMPLES = `
Examples:
  $ headshot doctor
  $ headshot doctor --json

Exit code 3 when something every command needs is missing (Node, sharp, a writable
HEADSHOT_HOME); optional parts (Replicate token, ai-toolkit, GPU) are reported with their fix.
`;

export function registerDoctor(program: Command, wrap: Wrap): void {
  program
    .command("doctor")
    .description("check what is installed and configured (Node, sharp, token, ai-toolkit, GPU, folders)")
    .option("--ai-toolkit <dir>", "ai-toolkit checkout to check (default AI_TOOLKIT_DIR or the project config)")
    .addHelpText("after", EXAMPLES)
    .action(
      wrap(async (ctx, rawOptions) => {
        const options = rawOptions as { aiToolkit?: string };
        const settings = await ctx.settings(options.aiToolkit ? { aiToolkit: options.aiToolkit } : {});
        const { runDoctor } = await import("../../doctor/doctor.js");
        const { doctorEventView, renderDoctorSummary } = await import("../views/doctor.js");
        const result = await runDoctor({ settings, env: ctx.env, nodeVersion: process.version }, ctx.io(doctorEventView(ctx.reporter)));
        renderDoctorSummary(ctx.reporter, result);
      }),
    );
}
