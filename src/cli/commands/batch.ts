/** `headshot batch <file.yaml>`: CI batch jobs (people x presets), idempotent, never prompts. */
import { Option, type Command } from "commander";
import type { Wrap } from "../context.js";
import { collect, wholeNumber } from "../parsers.js";

const EXAMPLES = `
Examples:
  $ headshot batch team.yaml --backend test        free trial: labelled PLACEHOLDER images, no token, no GPU
  $ headshot batch team.yaml --json | tee run.ndjson
  $ headshot batch team.yaml --only jane --only raj
  $ headshot batch team.yaml --concurrency 12
  $ headshot batch team.yaml --only dee --retrain-failed    a failed Replicate training is not re-paid unless asked

Per person: check the selfies, train (only when no identity exists yet or the selfies changed),
generate each preset into <out>/<person>/<preset>/, then score and keep the best (keepBest, crops).
Re-running does only what is missing: trained identities and finished images are never paid twice;
a preset whose content changed is regenerated (the old folder is kept as <preset>.superseded-<hash>).
budget: in the file caps the spend: a step that could exceed it is not started (stopped: budget).
Never prompts. --json streams NDJSON events; the last line is the summary (per person: status,
images, spend, failures, resume command).
Exit codes: 0 everyone done, 2 bad batch file or flag, 4 Replicate refused (token, credit),
5 someone failed or stopped at the budget, 6 a selfie set was rejected, 130 interrupted (re-run).
`;

export interface BatchFlags {
  backend?: "replicate" | "local" | "test";
  only?: string[];
  concurrency?: number;
  retrainFailed?: boolean;
}

export function registerBatch(program: Command, wrap: Wrap): void {
  program
    .command("batch")
    .description("run a batch file: train and generate headshots for a list of people (CI-friendly, resumable)")
    .argument("<file>", "batch YAML file (see examples/team.yaml; JSON Schema: presets/batch.schema.json)")
    .addOption(new Option("--backend <name>", "override every person's backend; `test` = free labelled placeholders").choices(["replicate", "local", "test"]))
    .option("--only <name>", "run only this person (repeatable)", collect)
    .option("--concurrency <n>", "predictions in flight across the whole batch (default: the file's, else 6)", wholeNumber("--concurrency", 1, 64))
    .option("--retrain-failed", "start a new (paid) training for people whose last Replicate training failed")
    .addHelpText("after", EXAMPLES)
    .action(
      wrap(async (ctx, file, rawOptions) => {
        const { runBatch } = await import("../../batch/run-batch.js");
        const { BatchView, showBatchResult } = await import("../views/batch.js");
        const settings = await ctx.settings();
        const view = new BatchView(ctx.reporter);
        let result;
        try {
          result = await runBatch({ file: file as string, options: rawOptions as BatchFlags, cwd: ctx.cwd, settings, env: ctx.env }, ctx.io(view.emit));
        } finally {
          // Work a failed step left running (e.g. a preset's other images after a full disk) must not
          // write after the summary: --json promises that the summary is the last line.
          view.close();
        }
        showBatchResult(ctx.reporter, result);
        if (result.error) throw result.error;
      }),
    );
}
