/**
 * Issue 14, clear errors instead of "this is a bug": R1 (only regular files read), R3 (the --json
 * summary is the last line), R4 (--json usage errors end in a summary), R7 (alias bombs, length
 * limits), R8 (links to folders named as such). In-process, each test in its own temp folder.
 */
import { execFileSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Reporter } from "../../src/cli/reporter.js";
import { Capture, runCli, tempWorkspace } from "../support/run-cli.js";
import { writeSelfies } from "../support/batch/workspace.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
beforeEach(async () => {
  ws = await tempWorkspace();
});
afterEach(() => ws.cleanup());

const cli = (argv: string[], env: Record<string, string> = {}, signal?: AbortSignal) => runCli(argv, { cwd: ws.dir, env: { ...ws.env, ...env }, ...(signal ? { signal } : {}) });

describe("R3: nothing on stdout after the --json summary", () => {
  it.each(["summary", "errorSummary"] as const)("late events, results and summaries after %s are dropped", (first) => {
    const stdout = new Capture();
    const reporter = new Reporter({ json: true, stdout, stderr: new Capture(), interactive: false, color: false });
    reporter.event("image.done", { key: "a" });
    if (first === "summary") reporter.summary({ images: 1 });
    else reporter.errorSummary({ code: "E_X", message: "failed", exitCode: 5 });
    reporter.event("image.done", { key: "b" });
    reporter.progress("x").update("late progress");
    reporter.summary({ images: 2 });
    reporter.errorSummary({ code: "E_Y", message: "again", exitCode: 5 });
    const lines = stdout.text.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.type)).toEqual(["image.done", "summary"]);
  });
});

describe("R4: --json usage errors end in the summary line", () => {
  it.each([
    ["an unknown option", ["--json", "presets", "list", "--bogus"]],
    ["an unknown command", ["--json", "presest"]],
    ["a missing argument", ["--json", "check"]],
    ["a missing option value", ["--json", "gen", "--preset"]],
    ["--json after the command", ["presets", "show", "--json"]],
  ])("%s: exit 2, only JSON on stdout, the last line a failed summary", async (_label, argv) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    const lines = r.json();
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: false, error: { code: "E_USAGE", exitCode: 2 } });
    expect(String((lines.at(-1)?.error as { message: string }).message)).not.toBe("");
    expect(r.stderr).toBe("");
  });

  it("without --json the usage error stays plain text on stderr", async () => {
    const r = await cli(["presets", "list", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("unknown option");
  });
});

const BOMB = `name: bomb
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
`;

describe("R7: alias bombs and length limits", () => {
  it("a preset alias bomb exits 2 with the location", async () => {
    await mkdir(join(ws.dir, "presets"));
    await writeFile(join(ws.dir, "presets", "bomb.yaml"), BOMB);
    const r = await cli(["--json", "presets", "validate", "presets/bomb.yaml"]);
    expect(r.code).toBe(2);
    expect(JSON.stringify(r.json().at(-1))).toMatch(/aliases expand too far.*"line":3/);
  });

  it("a batch file alias bomb exits 2 with the location", async () => {
    await writeFile(join(ws.dir, "team.yaml"), `${BOMB.replace("name: bomb\n", "")}people:\n  - name: ann\n    identity: ann\n    presets: [linkedin]\n`);
    const r = await cli(["--json", "batch", "team.yaml", "--backend", "test"]);
    expect(r.code).toBe(2);
    const summary = JSON.stringify(r.json().at(-1));
    expect(summary).toContain("aliases expand too far");
    expect(summary).toContain('"line":2');
  });

  it("a 300-character preset name is a located error, not ENAMETOOLONG", async () => {
    await mkdir(join(ws.dir, "presets"));
    await writeFile(join(ws.dir, "presets", "long.yaml"), `name: ${"a".repeat(300)}\nextends: corporate\n`);
    const r = await cli(["--json", "gen", "--preset", "presets/long.yaml", "--backend", "test", "--count", "1"]);
    expect(r.code).toBe(2);
    const summary = JSON.stringify(r.json().at(-1));
    expect(summary).toContain("at most 64 characters");
    expect(summary).toContain('"line":1');
    expect(summary).not.toContain("ENAMETOOLONG");
  });

  it("a 5 MB background is refused with its location", async () => {
    await mkdir(join(ws.dir, "presets"));
    await writeFile(join(ws.dir, "presets", "huge.yaml"), `name: huge\nextends: corporate\nbackground: ${"grey ".repeat(100_000)}\n`);
    const r = await cli(["--json", "presets", "validate", "presets/huge.yaml"]);
    expect(r.code).toBe(2);
    expect(JSON.stringify(r.json().at(-1))).toMatch(/background: keep it under 500 characters.*"line":3/);
  });
});

describe("R1/R8: only regular files are read from a selfie folder", () => {
  it("links to /dev/zero, a FIFO and a folder are skipped with what they are; the photos are checked", { timeout: 120_000 }, async () => {
    const selfies = await writeSelfies(join(ws.dir, "selfies"));
    await mkdir(join(ws.dir, "elsewhere"));
    await symlink("/dev/zero", join(selfies, "zero.jpg"));
    execFileSync("mkfifo", [join(ws.dir, "pipe")]);
    await symlink(join(ws.dir, "pipe"), join(selfies, "pipe.jpg"));
    execFileSync("mkfifo", [join(selfies, "fifo.jpg")]);
    await symlink(join(ws.dir, "elsewhere"), join(selfies, "more-photos"));
    await symlink(join(ws.dir, "missing.jpg"), join(selfies, "broken.jpg"));
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 100_000); // a hang fails the test and stops its work
    const r = await cli(["--json", "check", "selfies"], {}, abort.signal).finally(() => clearTimeout(timer));
    const lines = r.json();
    const skipped = Object.fromEntries(lines.filter((l) => l.type === "skipped").map((l) => [l.file, l.reason as string]));
    expect(skipped["zero.jpg"]).toMatch(/link to a device/);
    expect(skipped["pipe.jpg"]).toMatch(/link to a named pipe/);
    expect(skipped["fifo.jpg"]).toMatch(/named pipe/);
    expect(skipped["more-photos"]).toMatch(/link to a folder/);
    expect(skipped["broken.jpg"]).toMatch(/broken link/);
    const images = lines.filter((l) => l.type === "image").map((l) => l.file);
    expect(images).toHaveLength(8);
    expect(JSON.stringify(lines)).not.toContain("permissions");
    expect(r.code).toBe(0);
  });

  it("a preset or batch file that is a FIFO or a device is refused, not read", { timeout: 60_000 }, async () => {
    execFileSync("mkfifo", [join(ws.dir, "fifo.yaml")]);
    await symlink("/dev/zero", join(ws.dir, "zero.yaml"));
    for (const argv of [
      ["--json", "presets", "validate", "fifo.yaml"],
      ["--json", "presets", "validate", "zero.yaml"],
      ["--json", "batch", "fifo.yaml"],
      ["--json", "batch", "zero.yaml"],
    ]) {
      const r = await cli(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(JSON.stringify(r.json())).toMatch(/named pipe|device/);
    }
  });
});

describe("R6: a batch file is validated whole before the first paid step", () => {
  it.each([
    ["a misspelt value", "lighting.setup: rembrandtt", "rembrandt"],
    ["an unknown field", "lightning.setup: rembrandt", "lighting"],
    ["a field that cannot be set", "name: other", "cannot be set"],
    ["a 5000-character value", `background: ${"x".repeat(5000)}`, "500 characters"],
  ])("%s in a `set:` override: exit 2 before any training", { timeout: 120_000 }, async (_label, override, expected) => {
    await writeSelfies(join(ws.dir, "selfies", "ann"));
    await writeFile(
      join(ws.dir, "team.yaml"),
      `people:\n  - name: ann\n    selfies: ./selfies/ann\n    presets:\n      - preset: linkedin\n        count: 1\n        set:\n          ${override}\n`,
    );
    const r = await cli(["--json", "batch", "team.yaml", "--backend", "test"]);
    expect(r.code, r.stdout.slice(-1500)).toBe(2);
    const lines = r.json();
    expect(lines.filter((l) => String(l.type).startsWith("identity.") || String(l.type).startsWith("train"))).toEqual([]);
    expect(JSON.stringify(lines.at(-1))).toContain(expected);
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: false });
  });
});

describe("S3 in batch: one run per person/preset folder", () => {
  it("a person/preset folder held by a live run is refused, naming the pid; nothing is generated into it", { timeout: 120_000 }, async () => {
    const { spawn } = await import("node:child_process");
    const { hostname } = await import("node:os");
    const { processStartTicks } = await import("../../src/util/folder-lock.js");
    const other = spawn("sleep", ["60"]);
    try {
      const folder = join(ws.dir, "headshots", "ann", "linkedin");
      await mkdir(folder, { recursive: true });
      const pid = other.pid ?? 0;
      await writeFile(join(folder, ".headshot.lock"), JSON.stringify({ pid, host: hostname(), startTicks: processStartTicks(pid), startedAt: "2026-12-07T00:00:00.000Z", command: "headshot batch" }));
      await writeSelfies(join(ws.dir, "selfies", "ann"));
      await writeFile(join(ws.dir, "team.yaml"), `people:\n  - name: ann\n    selfies: ./selfies/ann\n    presets: [{preset: linkedin, count: 1}]\n`);
      const r = await cli(["--json", "batch", "team.yaml", "--backend", "test"]);
      expect(r.code).toBe(2);
      expect(r.json().filter((l) => String(l.type).startsWith("identity.") || String(l.type).startsWith("train"))).toEqual([]);
      const text = JSON.stringify(r.json());
      expect(text).toContain("in use by another headshot run");
      expect(text).toContain(`pid ${pid}`);
      expect(r.json().filter((l) => l.type === "gen.image.done")).toEqual([]);
    } finally {
      other.kill();
    }
  });
});
