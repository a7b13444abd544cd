/**
 * What users read, as normalised snapshots (issue 16): every command's --help, and one rendered
 * error per exit code, so a change to either shows up in review as a diff of a text file.
 * Normalised: ANSI codes, the version, temp paths and stack lines. Update with `vitest -u`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Reporter } from "../../src/cli/reporter.js";
import { renderError } from "../../src/cli/render-error.js";
import { ConfigFileError, DependencyError, InterruptedError, JobFailedError, RemoteApiError, SelfiesRejectedError } from "../../src/errors.js";
import { VERSION } from "../../src/version.js";
import { Capture, runCli, tempWorkspace } from "../support/run-cli.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
beforeAll(async () => {
  ws = await tempWorkspace("headshot-snapshots-");
});
afterAll(async () => {
  await ws.cleanup();
});

function normalise(text: string): string {
  return text
    .replaceAll(ws.dir, "<tmp>")
    .replaceAll(VERSION, "<version>")
    .replace(/^\s+at .*$/gm, "    at <stack>")
    .replace(/(\s+at <stack>\n)+/g, "\n    at <stack>\n");
}

const COMMANDS = [[], ["check"], ["train"], ["gen"], ["batch"], ["score"], ["presets"], ["identities"], ["doctor"], ["polish"]];

describe("--help", () => {
  it.each(COMMANDS.map((c) => [c.join(" ") || "headshot", c] as const))("%s", async (name, command) => {
    const result = await runCli([...command, "--help"], { cwd: ws.dir, env: ws.env });
    expect(result.code).toBe(0);
    await expect(normalise(result.stdout)).toMatchFileSnapshot(`__snapshots__/help/${name.replace(/ /g, "-")}.txt`);
  });
});

/** Renders an error the way `main` does for a person (no colour, not interactive). */
function rendered(error: unknown): { code: number; text: string } {
  const stderr = new Capture();
  const reporter = new Reporter({ json: false, stdout: new Capture(), stderr, interactive: false, color: false });
  const code = renderError(error, reporter);
  return { code, text: normalise(stderr.text) };
}

describe("one rendered error per exit code", () => {
  it("2: a usage error from a real run (unknown preset, with the nearest name)", async () => {
    const result = await runCli(["gen", "--preset", "corporat", "--backend", "test", "--dry-run"], { cwd: ws.dir, env: ws.env });
    expect(result.code).toBe(2);
    await expect(normalise(result.stderr)).toMatchFileSnapshot("__snapshots__/errors/exit-2.txt");
  });

  const cases: Array<[number, unknown]> = [
    [1, new TypeError("Cannot read properties of undefined (reading 'seed')")],
    [
      2,
      new ConfigFileError("team.yaml: 1 problem", [
        { message: "unknown key `lighting.setp`", severity: "error", hint: "did you mean lighting.setup?", location: { file: "team.yaml", line: 3, col: 5, lineText: "    setp: rembrandt", length: 4 } },
      ]),
    ],
    [3, new DependencyError("--backend local is not ready: ai-toolkit missing", { code: "E_BACKEND_NOT_READY", details: ["ai-toolkit: not found", "  fix: pass --ai-toolkit <dir>"], hint: "`headshot doctor` re-checks them" })],
    [4, new RemoteApiError("Replicate refused the token (401)", { code: "E_REPLICATE_401", status: 401, hint: "check REPLICATE_API_TOKEN" })],
    [5, new JobFailedError("2 of 8 images did not land", { code: "E_GEN_INCOMPLETE", details: ["corporate-1-3-42 (seed 44): failed: boom [E_GEN_FAILED]"], hint: "re-run to make only what is missing: headshot gen --preset corporate" })],
    [6, new SelfiesRejectedError("the selfie set in ./selfies is not good enough to train on", { code: "E_SELFIES_REJECTED", details: ["add 4 more photos"], hint: "see `headshot check ./selfies`" })],
    [130, new InterruptedError("Interrupted: 3 of 8 images are done; the manifest is saved.", { hint: "re-run the same command to resume" })],
  ];
  it.each(cases)("%i", async (exit, error) => {
    const { code, text } = rendered(error);
    expect(code).toBe(exit);
    await expect(text).toMatchFileSnapshot(`__snapshots__/errors/rendered-${exit}${exit === 2 ? "-config" : ""}.txt`);
  });
});
