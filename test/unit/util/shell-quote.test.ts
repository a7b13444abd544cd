/** The one builder of the commands headshot prints to paste (resume hints of train, gen, batch, check). */
import { describe, expect, it } from "vitest";
import { resumeCommand, type GenerateOptions } from "../../../src/generate/options.js";
import type { GenPlan } from "../../../src/generation/plan.js";
import { flagArgs, headshotCommand } from "../../../src/util/shell-quote.js";

describe("flagArgs and headshotCommand", () => {
  it.each([
    { flags: [["--count", 4]] as const, args: ["--count", "4"] },
    { flags: [["--crops", true]] as const, args: ["--crops"] },
    { flags: [["--crops", false]] as const, args: [] },
    { flags: [["--gpu", undefined]] as const, args: [] },
    { flags: [["--lr", 0.0004], ["--name", "jane"]] as const, args: ["--lr", "0.0004", "--name", "jane"] },
  ])("$flags -> $args", ({ flags, args }) => {
    expect(flagArgs(flags)).toEqual(args);
  });

  it("quotes what a shell would split, in the order given", () => {
    expect(headshotCommand(["batch", "my team.yaml"], [["--only", "jane"], ["--backend", undefined], ["--retrain-failed", true]])).toBe("headshot batch 'my team.yaml' --only jane --retrain-failed");
  });

  it("gen's resume command keeps every option that changes the batch, and only those", () => {
    const plan = { seedBase: 42, outDir: "/out/jane corporate" } as GenPlan;
    const options: GenerateOptions = { preset: "corporate", identity: "jane", backend: "local", set: ["background=teal", "lens=85mm"], gpu: "1", until: 2, crops: true, polish: true };
    expect(resumeCommand(options, plan)).toBe(
      "headshot gen --preset corporate --identity jane --seed 42 --out '/out/jane corporate' --set background=teal --set lens=85mm --backend local --gpu 1 --until 2 --max-count 6 --crops",
    );
    expect(resumeCommand({ preset: "linkedin", backend: "replicate", count: 3 }, plan)).toBe("headshot gen --preset linkedin --count 3 --seed 42 --out '/out/jane corporate'");
  });
});
