import { describe, expect, it } from "vitest";
import { parseNvidiaSmiFree } from "../../../src/gpu/free-memory.js";
import { UsageError } from "../../../src/errors.js";
import { chooseMemoryMode, forcedMemoryMode } from "../../../src/generation/local/memory-mode.js";
import type { LocalModelId, OffloadMode, QuantizeMode } from "../../../src/generation/local/protocol.js";

describe("chooseMemoryMode", () => {
  it.each<[LocalModelId, number | undefined, string, string]>([
    // FLUX.1: about 35 GB all in, 26 GB with model offload, 15 GB with 8-bit weights, 10 GB with 4-bit.
    ["flux1-dev", 81_000, "none", "none"],
    ["flux1-dev", 40_000, "none", "none"],
    ["flux1-dev", 30_000, "model", "none"],
    ["flux1-dev", 23_500, "model", "8bit"], // a 24 GB card with the desktop on it
    ["flux1-dev", 12_000, "model", "4bit"],
    ["flux1-schnell", 15_500, "model", "8bit"],
    ["flux1-dev", 6_000, "sequential", "none"],
    ["flux1-dev", undefined, "model", "none"],
    // FLUX.2-dev is far bigger (32B transformer, 24B text encoder).
    ["flux2-dev", 81_000, "model", "none"],
    ["flux2-dev", 40_000, "model", "8bit"],
    ["flux2-dev", 23_500, "model", "4bit"],
    ["flux2-dev", 16_000, "sequential", "none"],
    // klein 4B fits a 24 GB card whole.
    ["flux2-klein-4b", 23_500, "none", "none"],
    ["flux2-klein-4b", 12_000, "model", "none"],
    ["flux2-klein-9b", 23_500, "model", "none"],
    ["flux2-klein-9b", 13_000, "model", "8bit"],
    ["flux2-klein-9b", 12_000, "model", "4bit"],
  ])("%s with %s MiB free -> offload %s, quantize %s", (model, free, offload, quantize) => {
    const mode = chooseMemoryMode(model, free);
    expect({ offload: mode.offload, quantize: mode.quantize }).toEqual({ offload, quantize });
    if (mode.estimatedMiB !== undefined && free !== undefined) expect(mode.estimatedMiB).toBeLessThanOrEqual(free);
    expect(mode.reason.length).toBeGreaterThan(10);
  });

  it("always picks the least invasive mode that fits", () => {
    const order = ["none/none", "model/none", "model/8bit", "model/4bit", "sequential/none"];
    let last = 0;
    for (let free = 200_000; free >= 1_000; free -= 500) {
      const mode = chooseMemoryMode("flux1-dev", free);
      const rank = order.indexOf(`${mode.offload}/${mode.quantize}`);
      expect(rank).toBeGreaterThanOrEqual(last);
      last = rank;
    }
    expect(last).toBe(4);
  });
});

describe("parseNvidiaSmiFree", () => {
  it("reads index and free MiB per GPU and skips noise", () => {
    const out = "0, 23512\n1, 81037\r\nNVIDIA-SMI has failed\n";
    expect([...parseNvidiaSmiFree(out)]).toEqual([
      [0, 23512],
      [1, 81037],
    ]);
  });
});

describe("forcedMemoryMode", () => {
  const chosen = chooseMemoryMode("flux1-dev", 12_000); // model offload, 4-bit
  it.each<[OffloadMode | undefined, QuantizeMode | undefined, string, string]>([
    ["sequential", undefined, "sequential", "none"],
    ["model", undefined, "model", "4bit"],
    [undefined, "8bit", "model", "8bit"],
    ["none", "none", "none", "none"],
  ])("--offload %s --quantize %s -> %s/%s", (offload, quantize, expectedOffload, expectedQuantize) => {
    expect(forcedMemoryMode(offload, quantize, chosen)).toMatchObject({ offload: expectedOffload, quantize: expectedQuantize, reason: "set by the user" });
  });
  it("refuses sequential offload with quantization", () => {
    expect(() => forcedMemoryMode("sequential", "4bit", chosen)).toThrow(UsageError);
  });
});
