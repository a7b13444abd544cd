/** The pure parts of `gen --backend local` set-up: the child's environment and the CLI events. */
import { describe, expect, it } from "vitest";
import { localChildEnv, toRunEvent } from "../../../src/generation/local/backend-setup.js";

describe("localChildEnv", () => {
  it("passes the CLI's environment through, minus the Replicate token, unbuffered", () => {
    const env = localChildEnv({ PATH: "/bin", HF_TOKEN: "hf_1", HF_HOME: "/cache", REPLICATE_API_TOKEN: "r8_x", UNSET: undefined }, undefined);
    expect(env).toEqual({ PATH: "/bin", HF_TOKEN: "hf_1", HF_HOME: "/cache", PYTHONUNBUFFERED: "1" });
  });

  it("--gpu sets CUDA_VISIBLE_DEVICES in PCI bus order, over an inherited value", () => {
    expect(localChildEnv({ CUDA_VISIBLE_DEVICES: "0" }, "1,2")).toEqual({ CUDA_VISIBLE_DEVICES: "1,2", CUDA_DEVICE_ORDER: "PCI_BUS_ID", PYTHONUNBUFFERED: "1" });
    // Without --gpu a user's own CUDA_VISIBLE_DEVICES is kept as it is.
    expect(localChildEnv({ CUDA_VISIBLE_DEVICES: "3" }, undefined)).toEqual({ CUDA_VISIBLE_DEVICES: "3", PYTHONUNBUFFERED: "1" });
  });
});

describe("toRunEvent", () => {
  it("maps generator events to gen.local.* events", () => {
    expect(toRunEvent({ type: "memory", freeMiB: 10240, offload: "model", quantize: "4bit", estimatedMiB: 9628, reason: "r" })).toEqual({
      type: "gen.local.memory",
      freeMiB: 10240,
      offload: "model",
      quantize: "4bit",
      estimatedMiB: 9628,
      reason: "r",
    });
    expect(toRunEvent({ type: "loading", message: "loading LoRA" })).toEqual({ type: "gen.local.loading", message: "loading LoRA" });
    expect(toRunEvent({ type: "ready", model: "flux1-dev", device: "cuda", offload: "none", quantize: "none" }, 42)).toMatchObject({ type: "gen.local.ready", pid: 42 });
    expect(toRunEvent({ type: "stderr", line: "Loading shards" })).toEqual({ type: "gen.local.log", line: "Loading shards" });
    expect(toRunEvent({ type: "bye" })).toBeUndefined();
    expect(toRunEvent({ type: "exit", code: 0, signal: undefined })).toBeUndefined();
  });

  it("splits LocalBackend job ids into image key and attempt", () => {
    expect(toRunEvent({ type: "progress", id: "navy-blazer-002#3", step: 4, total: 28 })).toEqual({ type: "gen.local.step", key: "navy-blazer-002", attempt: 3, step: 4, total: 28 });
    expect(toRunEvent({ type: "progress", id: "plain", step: 1, total: 2 })).toEqual({ type: "gen.local.step", key: "plain", attempt: 1, step: 1, total: 2 });
  });
});
