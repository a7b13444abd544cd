/** Runs the built binary the way a user does (npm ci builds dist/ through `prepare`). */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = join(process.cwd(), "bin", "headshot.js");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-e2e-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string> = {}) =>
  execa("node", [BIN, ...args], { cwd: dir, reject: false, env: { HEADSHOT_HOME: join(dir, "home"), ...env }, extendEnv: true });

describe("built binary", () => {
  it("prints help and version", async () => {
    const help = await run(["--help"]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain("Usage: headshot");
    const version = await run(["--version"]);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("gives a new user the dry-run plan of a corporate batch, offline, JSON only on stdout", async () => {
    const r = await run(["gen", "--preset", "corporate", "--count", "8", "--dry-run", "--json"]);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string });
    expect(lines).toHaveLength(9);
    expect(lines.at(-1)?.type).toBe("summary");
  });

  it("exits 2 with a readable error on a bad preset name, without colour under NO_COLOR", async () => {
    const r = await run(["gen", "--preset", "corprate", "--dry-run"], { NO_COLOR: "1", FORCE_COLOR: "" });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('Unknown preset "corprate"');
    expect(r.stderr.includes("\u001b[")).toBe(false);
  });
});
