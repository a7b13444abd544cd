import { describe, expect, it } from "vitest";
import { classifyOutput, errorExcerpt, failureError, oomSuggestion } from "../../../src/training/ai-toolkit/failure.js";
import { buildTrainPlan, type TrainPlanInput } from "../../../src/training/plan.js";

const plan = (over: Partial<TrainPlanInput> = {}) =>
  buildTrainPlan({ name: "jane", home: "/h", selfiesDir: "/s", gpu: { index: 0, name: "RTX 4090", totalMiB: 24564, freeMiB: 24000 }, ...over });

describe("classifyOutput", () => {
  it.each([
    [["torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 72.00 MiB."], "oom"],
    [["# OOM during training step, skipping batch 3/3 #", "Error running job: OOM during training step 3 times in a row, aborting training"], "oom"],
    [["huggingface_hub.errors.GatedRepoError: 401 Client Error. (Request ID: x)", "Cannot access gated repo for url https://huggingface.co/..."], "gated"],
    [["OSError: black-forest-labs/FLUX.1-dev does not appear to have a file named config.json."], "gated"],
    [["AssertionError: no images found in /x"], "no-images"],
    [["Error running job: Unknown process type: diffusion_trainer"], "version"],
    [["RuntimeError: expected scalar type BFloat16 but found Float"], "crash"],
  ])("%j -> %s", (lines, kind) => {
    expect(classifyOutput(lines)).toBe(kind);
  });
});

describe("errorExcerpt", () => {
  it("starts at the last 'Error running job' and keeps the traceback after it", () => {
    const lines = ["Loading Flux model", "noise", "Error running job: boom", "Result:", " - 1 failure", "Traceback (most recent call last):", '  File "run.py"', "RuntimeError: boom"];
    expect(errorExcerpt(lines)).toEqual(lines.slice(2));
  });
  it("keeps a traceback that arrived (on stderr) before the stdout error line", () => {
    const lines = ["Loading VAE", "Traceback (most recent call last):", '  File "run.py"', "RuntimeError: boom", "Error running job: boom", "Result:"];
    expect(errorExcerpt(lines)).toEqual(lines.slice(1));
  });
  it("falls back to the last lines and elides long ones", () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
    expect(errorExcerpt(lines, 10)).toEqual(lines.slice(40));
    const long = ["Error running job: x", "Result:", "Traceback (most recent call last):", ...Array.from({ length: 40 }, (_, i) => `  frame ${i}`), "ValueError: x"];
    const cut = errorExcerpt(long, 10);
    expect(cut.length).toBe(10);
    expect(cut.slice(0, 2)).toEqual(["Error running job: x", "…"]);
    expect(cut.at(-1)).toBe("ValueError: x");
  });
});

describe("oomSuggestion", () => {
  it("suggests the cheapest switch first", () => {
    expect(oomSuggestion(plan())).toMatch(/^--low-vram/);
    expect(oomSuggestion(plan({ lowVram: true, quantize: false }))).toMatch(/^--quantize/);
    expect(oomSuggestion(plan({ lowVram: true, rank: 32 }))).toMatch(/^--rank 16 \(now 32\)/);
    expect(oomSuggestion(plan({ lowVram: true }))).toMatch(/^--resolution 512,768 \(drops 1024\)/);
    expect(oomSuggestion(plan({ lowVram: true, resolutions: [512] }))).toMatch(/^--model flux2-klein-4b/);
    expect(oomSuggestion(plan({ lowVram: true, resolutions: [512], recipe: "flux2-klein-4b", rank: 16 }))).toMatch(/^--backend replicate/);
  });
});

describe("failureError", () => {
  it("says whether HF_TOKEN was set for a gated model", () => {
    const lines = ["GatedRepoError: 401 Client Error."];
    expect(failureError(plan(), { exitCode: 1, signal: undefined, lines }, {}).message).toContain("HF_TOKEN is not set");
    expect(failureError(plan(), { exitCode: 1, signal: undefined, lines }, { HF_TOKEN: "hf_x" }).message).toContain("that account has no access");
    expect(JSON.stringify(failureError(plan(), { exitCode: 1, signal: undefined, lines }, { HF_TOKEN: "hf_secret" }).toJSON())).not.toContain("hf_secret");
  });
  it("names a kill by signal (e.g. the kernel OOM killer)", () => {
    expect(failureError(plan(), { exitCode: undefined, signal: "SIGKILL", lines: [] }, {}).message).toBe("ai-toolkit was killed by SIGKILL");
  });
});
