import { describe, expect, it } from "vitest";
import { LineSplitter, parseClock, parseProgressLine, stripAnsi } from "../../../src/training/ai-toolkit/progress.js";

// Lines in the exact format ostris/ai-toolkit toolkit/progress_bar.py records (tqdm 4.70.1's formatter).
const RECORDED = {
  slow: "my_first_flux_lora_v1:  12%|█▏        | 120/1000 [04:10<29:20,  2.00s/it, lr: 1.0e-04 loss: 4.123e-01]",
  fast: "my_first_flux_lora_v1:  12%|█▏        | 120/1000 [00:50<06:06,  2.40it/s, lr: 1.0e-04 loss: 4.123e-01]",
  resumed: "job:  25%|██▌       | 500/2000 [00:00<?, ?it/s]",
  hours: "my_first_flux_lora_v1:  60%|██████    | 1200/2000 [1:06:40<44:26,  3.33s/it, lr: 1.0e-04 loss: 3.010e-01]",
  ascii: "my_first_flux_lora_v1:  60%|######    | 1200/2000 [1:06:40<44:26,  3.33s/it, lr: 1.0e-04 loss: 3.010e-01]",
};

describe("parseProgressLine", () => {
  it("reads step, total, loss, lr, speed and ETA from a slow (s/it) line", () => {
    expect(parseProgressLine(RECORDED.slow, "my_first_flux_lora_v1")).toEqual({
      step: 120,
      total: 1000,
      percent: 12,
      elapsedSeconds: 250,
      etaSeconds: 1760,
      secondsPerStep: 2,
      lr: 1e-4,
      loss: 0.4123,
    });
  });

  it("inverts it/s into seconds per step", () => {
    const u = parseProgressLine(RECORDED.fast, "my_first_flux_lora_v1");
    expect(u?.secondsPerStep).toBeCloseTo(1 / 2.4, 5);
    expect(u?.etaSeconds).toBe(366);
  });

  it("accepts the first line after a resume (no rate, no ETA, no postfix)", () => {
    expect(parseProgressLine(RECORDED.resumed, "job")).toEqual({ step: 500, total: 2000, percent: 25, elapsedSeconds: 0 });
  });

  it("reads H:MM:SS elapsed times and the ASCII bar", () => {
    for (const line of [RECORDED.hours, RECORDED.ascii]) {
      const u = parseProgressLine(line, "my_first_flux_lora_v1");
      expect(u).toMatchObject({ step: 1200, total: 2000, elapsedSeconds: 4000, etaSeconds: 2666, secondsPerStep: 3.33, loss: 0.301 });
    }
  });

  it("ignores other bars and lines: only the job's desc counts", () => {
    const name = "jane";
    for (const line of [
      "Caching latents to disk:  40%|████      | 4/10 [00:01<00:01,  3.10it/s]",
      "Generating Images:  50%|█████     | 2/4 [00:03<00:03,  1.52s/it]",
      "Generating Samples: 100%|██████████| 4/4 [00:06<00:00,  1.50s/it]",
      "  0%|          | 0/12 [00:00<?, ?it/s]",
      "0it [00:00, ?it/s]",
      "Loading checkpoint shards: 100%|██████████| 2/2 [00:02<00:00,  1.10s/it]",
      "model.safetensors:  45%|████▌     | 4.50G/9.98G [01:10<01:25, 64.1MB/s]",
      "Saved checkpoint to /x/jane_000000250.safetensors",
      "jane_v2:  12%|█▏        | 120/1000 [04:10<29:20,  2.00s/it]",
    ]) {
      expect(parseProgressLine(line, name)).toBeUndefined();
    }
  });

  it("strips ANSI colour and cursor codes", () => {
    const line = `\u001b[A\u001b[2K\u001b[32m${RECORDED.slow}\u001b[0m`;
    expect(stripAnsi(line)).toBe(RECORDED.slow);
    expect(parseProgressLine(line, "my_first_flux_lora_v1")?.step).toBe(120);
  });

  it("leaves a nan loss undefined instead of NaN", () => {
    const u = parseProgressLine("jane:  10%|█         | 10/100 [00:20<03:00,  2.00s/it, lr: 1.0e-04 loss: nan]", "jane");
    expect(u?.step).toBe(10);
    expect(u).not.toHaveProperty("loss");
  });
});

describe("LineSplitter", () => {
  it("splits tqdm's \\r updates and keeps partial records across chunks", () => {
    const s = new LineSplitter();
    const stream = `\r${RECORDED.resumed}\r${RECORDED.slow}\r${RECORDED.fast}\n`;
    const out: string[] = [];
    // Feed in awkward 7-byte pieces, as a pipe may deliver them.
    for (let i = 0; i < stream.length; i += 7) out.push(...s.push(stream.slice(i, i + 7)));
    out.push(...s.flush());
    expect(out).toEqual([RECORDED.resumed, RECORDED.slow, RECORDED.fast]);
  });

  it("flushes a last record without a line end", () => {
    const s = new LineSplitter();
    expect(s.push("a\r\nb")).toEqual(["a"]);
    expect(s.flush()).toEqual(["b"]);
  });
});

describe("parseClock", () => {
  it("handles MM:SS, H:MM:SS and ?", () => {
    expect(parseClock("04:10")).toBe(250);
    expect(parseClock("1:06:40")).toBe(4000);
    expect(parseClock("?")).toBeUndefined();
  });
});
