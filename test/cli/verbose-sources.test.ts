/** `gen --verbose` says where count, model, format, concurrency and backend came from. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempWorkspace } from "../support/run-cli.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
beforeEach(async () => {
  ws = await tempWorkspace("headshot-verbose-");
});
afterEach(async () => {
  await ws.cleanup();
});

describe("gen --verbose", () => {
  it("names the flag, the project config or the default behind each setting", async () => {
    const configPath = join(ws.dir, "headshot.config.yaml");
    await writeFile(configPath, "defaults:\n  count: 2\n  concurrency: 3\n");
    const r = await runCli(["--verbose", "gen", "--preset", "corporate", "--dry-run", "--format", "jpg"], { cwd: ws.dir, env: ws.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`count: 2 (from ${configPath})`);
    expect(r.stderr).toContain(`concurrency: 3 (from ${configPath})`);
    expect(r.stderr).toContain("format: jpg (from --format)");
    expect(r.stderr).toContain("model: from the preset");
    expect(r.stderr).toContain("backend: replicate (default)");

    const typed = await runCli(["--verbose", "gen", "--preset", "corporate", "--dry-run", "--count", "4", "--backend", "test"], { cwd: ws.dir, env: ws.env });
    expect(typed.code, typed.stderr).toBe(0);
    expect(typed.stderr).toContain("count: 4 (from --count)");
    expect(typed.stderr).toContain("backend: test (from --backend)");
  }, 60_000);

  it("prints nothing of it without --verbose", async () => {
    const r = await runCli(["gen", "--preset", "corporate", "--dry-run", "--count", "4"], { cwd: ws.dir, env: ws.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("count: 4 (from --count)");
  }, 60_000);
});
