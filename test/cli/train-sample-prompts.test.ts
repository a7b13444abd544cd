import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempWorkspace } from "../support/run-cli.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
beforeEach(async () => {
  ws = await tempWorkspace();
  await mkdir(join(ws.dir, "selfies"));
  await copyFile("test/fixtures/faces/astronaut.png", join(ws.dir, "selfies", "a.png"));
});
afterEach(() => ws.cleanup());

describe("train sample prompts", () => {
  it("come from a preset, keep the [trigger] placeholder and use the class word", async () => {
    const r = await runCli(["train", "selfies", "--name", "jane", "--backend", "local", "--dry-run", "--class", "woman", "--sample-preset", "executive"], { cwd: ws.dir, env: ws.env });
    expect(r.code).toBe(0);
    const prompts = r.stdout.split("\n").filter((l) => l.trim().startsWith('- "[trigger] woman, professional headshot photograph'));
    // executive has two lighting variations: one sample prompt each.
    expect(prompts).toHaveLength(2);
    expect(prompts[0]).toContain("Rembrandt lighting");
  });

  it("an unknown sample preset is a usage error with a suggestion", async () => {
    const r = await runCli(["train", "selfies", "--name", "jane", "--backend", "local", "--dry-run", "--sample-preset", "corprate"], { cwd: ws.dir, env: ws.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean "corporate"?');
  });
});

describe("train --backend test", () => {
  // A rehearsal identity is made from checked selfies (issue 15; the accepted case is in
  // gen-rehearsal.test.ts). A set the check rejects is refused as for a real training, and nothing
  // is registered anywhere.
  it("refuses a rejected selfie set (exit 6) and registers nothing", async () => {
    const r = await runCli(["train", "selfies", "--name", "jane", "--backend", "test"], { cwd: ws.dir, env: ws.env });
    expect(r.code).toBe(6);
    const shown = await runCli(["identities", "show", "jane"], { cwd: ws.dir, env: ws.env });
    expect(shown.code).not.toBe(0);
  });
});
