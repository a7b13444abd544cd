/** gen's and train's defaults go through the settings precedence and remember where they came from. */
import { describe, expect, it } from "vitest";
import { describeSettings, resolveGenDefaults, resolveTrainBackend } from "../../../src/settings/command-defaults.js";

const config = { projectConfigPath: "/p/headshot.config.yaml", projectConfig: { backend: "replicate" as const, defaults: { count: 2, model: "flux-dev-lora", concurrency: 3, format: "jpg" as const } } };
const none = { projectConfigPath: undefined, projectConfig: undefined };

describe("resolveGenDefaults", () => {
  it("flags win over the project config, which wins over the preset and the defaults", () => {
    const fromFlags = resolveGenDefaults({ count: 5, model: "flux-2-dev", format: "webp", concurrency: 8, backend: "test", backendFromFlag: true }, config, 6);
    expect(fromFlags.count).toEqual({ value: 5, source: "flag", from: "--count" });
    expect(fromFlags.model).toEqual({ value: "flux-2-dev", source: "flag", from: "--model" });
    expect(fromFlags.format).toEqual({ value: "webp", source: "flag", from: "--format" });
    expect(fromFlags.concurrency).toEqual({ value: 8, source: "flag", from: "--concurrency" });
    expect(fromFlags.backend).toEqual({ value: "test", source: "flag", from: "--backend" });

    const fromConfig = resolveGenDefaults({ backend: "replicate", backendFromFlag: false }, config, 6);
    expect(fromConfig.count).toEqual({ value: 2, source: "config", from: "/p/headshot.config.yaml" });
    expect(fromConfig.model).toEqual({ value: "flux-dev-lora", source: "config", from: "/p/headshot.config.yaml" });
    expect(fromConfig.concurrency).toEqual({ value: 3, source: "config", from: "/p/headshot.config.yaml" });
    expect(fromConfig.backend).toEqual({ value: "replicate", source: "default" });

    const bare = resolveGenDefaults({ backend: "replicate", backendFromFlag: false }, none, 6);
    expect(bare.count).toEqual({ value: undefined, source: "preset" });
    expect(bare.model).toEqual({ value: undefined, source: "preset" });
    expect(bare.concurrency).toEqual({ value: 6, source: "default" });
  });

  it("--until's planned count wins over the config; local runs one image at a time", () => {
    const r = resolveGenDefaults({ untilCount: 9, concurrency: 4, backend: "local", backendFromFlag: true }, config, 6);
    expect(r.count).toEqual({ value: 9, source: "flag", from: "--until" });
    expect(r.concurrency.value).toBe(1);
  });
});

describe("resolveTrainBackend", () => {
  it("--backend, then $HEADSHOT_BACKEND, then the project config, then local", () => {
    expect(resolveTrainBackend("replicate", { HEADSHOT_BACKEND: "local" }, config)).toEqual({ value: "replicate", source: "flag", from: "--backend" });
    expect(resolveTrainBackend(undefined, { HEADSHOT_BACKEND: "local" }, config)).toEqual({ value: "local", source: "env", from: "HEADSHOT_BACKEND" });
    expect(resolveTrainBackend(undefined, {}, config)).toEqual({ value: "replicate", source: "config", from: "/p/headshot.config.yaml" });
    expect(resolveTrainBackend(undefined, {}, none)).toEqual({ value: "local", source: "default" });
  });
});

describe("describeSettings", () => {
  it("says the value and where it came from, one line each", () => {
    const lines = describeSettings({ count: { value: 4, source: "flag", from: "--count" }, model: { value: undefined, source: "preset" }, backend: { value: "local", source: "env", from: "HEADSHOT_BACKEND" } });
    expect(lines).toEqual(["count: 4 (from --count)", "model: from the preset", "backend: local (from $HEADSHOT_BACKEND)"]);
  });
});
