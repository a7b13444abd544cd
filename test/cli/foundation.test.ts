import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempWorkspace } from "../support/run-cli.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
beforeEach(async () => {
  ws = await tempWorkspace();
});
afterEach(() => ws.cleanup());

const cli = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { cwd: ws.dir, env: { ...ws.env, ...env } });

describe("headshot (root)", () => {
  it("--help lists only working commands and the exit codes", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    for (const command of ["gen", "presets", "doctor"]) expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    expect(r.stdout).toContain("130  interrupted");
    expect(r.stdout).toContain("REPLICATE_API_TOKEN");
  });

  it("--version prints the package version", async () => {
    const r = await cli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("an unknown command exits 2 with a suggestion", async () => {
    const r = await cli(["presest"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Did you mean presets?");
  });
});

describe("headshot presets", () => {
  it("list shows built-ins and user presets", async () => {
    await mkdir(join(ws.dir, "presets"));
    await writeFile(join(ws.dir, "presets", "team.yaml"), "description: Our team look\nextends: corporate\n");
    const r = await cli(["presets", "list"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^corporate\s+Classic corporate headshot/m);
    expect(r.stdout).toMatch(/^team\s+\[user\] Our team look/m);
  });

  it("list --json is JSON lines ending in a summary", async () => {
    const r = await cli(["presets", "list", "--json"]);
    const lines = r.json();
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: true });
    expect(lines.filter((l) => l.type === "preset").length).toBeGreaterThanOrEqual(10);
    expect(r.stderr).toBe("");
  });

  it("show prints the merged preset and a sample prompt", async () => {
    const r = await cli(["presets", "show", "linkedin"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("linkedin.yaml <- ");
    expect(r.stdout).toContain("sample prompt: [trigger] person");
  });

  it("validate points at file:line:col with the source line and a caret", async () => {
    const file = join(ws.dir, "bad.yaml");
    await writeFile(file, "name: bad\nlighting:\n  setup: rembrant\n  colour: warm\n");
    const r = await cli(["presets", "validate", "bad.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3:10 error: lighting.setup: "rembrant" is not allowed`);
    expect(r.stderr).toContain("    3 |   setup: rembrant");
    expect(r.stderr).toContain("      |          ^^^^^^^^");
    expect(r.stderr).toContain('did you mean "rembrandt"?');
    expect(r.stderr).toContain(`${file}:4:3 error: unknown key "colour" in lighting`);
  });

  it("validate accepts good files", async () => {
    const r = await cli(["presets", "validate", join(process.cwd(), "presets", "corporate.yaml")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("is valid");
  });

  it("show of an unknown preset suggests the nearest name", async () => {
    const r = await cli(["presets", "show", "exectuive"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown preset "exectuive"');
    expect(r.stderr).toContain('did you mean "executive"?');
  });
});

describe("headshot gen --dry-run", () => {
  it("prints a deterministic plan of a corporate batch with [trigger] placeholders", async () => {
    const a = await cli(["gen", "--preset", "corporate", "--count", "8", "--seed", "42", "--dry-run"]);
    const b = await cli(["gen", "--preset", "corporate", "--count", "8", "--seed", "42", "--dry-run"]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain("Plan: 8 images from preset corporate");
    expect(a.stdout).toContain("corporate-tailored-navy-blazer-001-42.png");
    expect(a.stdout).toContain("corporate-charcoal-suit-jacket-008-49.png");
    expect(a.stdout).toContain("prompt    [trigger] person, professional headshot photograph");
    expect(a.stdout).toMatch(/Replicate, flux-dev-lora \+ LoRA\s+\$0\.26\*/);
    expect(a.stdout).toContain(join(ws.dir, "headshots", "no-identity", "corporate"));
  });

  it("--json streams one event per image and ends with the summary", async () => {
    const r = await cli(["gen", "--preset", "linkedin", "--count", "3", "--seed", "7", "--dry-run", "--json", "--set", "lighting.setup=rembrandt"]);
    expect(r.code).toBe(0);
    const lines = r.json();
    expect(lines.filter((l) => l.type === "plan.image")).toHaveLength(3);
    const first = lines[0] as { seed: number; prompt: string; inputs: Record<string, unknown>; path: string };
    expect(first.seed).toBe(7);
    expect(first.prompt).toContain("Rembrandt lighting");
    expect(first.inputs).toMatchObject({ aspect_ratio: "1:1", num_inference_steps: 45, guidance: 2.5, seed: 7, go_fast: false });
    expect(lines.at(-1)).toMatchObject({ type: "summary", ok: true, dryRun: true, count: 3, seedBase: 7, seedSource: "flag" });
  });

  it("uses a registered identity's trigger and class", async () => {
    await mkdir(join(ws.home, "identities", "jane"), { recursive: true });
    await writeFile(join(ws.home, "identities", "jane", "identity.json"), JSON.stringify({ name: "jane", trigger: "jnx", classWord: "woman" }));
    const r = await cli(["gen", "--preset", "corporate", "--identity", "jane", "--count", "1", "--dry-run", "--json"]);
    expect(r.code).toBe(0);
    expect((r.json()[0] as { prompt: string }).prompt.startsWith("jnx woman, ")).toBe(true);
  });

  it.each([
    [["--count", "0"], "--count must be a whole number from 1 to 1000"],
    [["--count", "abc"], "--count must be a whole number"],
    [["--seed", "-1"], "--seed must be a whole number"],
    [["--set", "lighting.setp=rembrandt"], 'did you mean "lighting.setup"?'],
    [["--set", "nonsense"], "write it as key.path=value"],
    [["--format", "gif"], "--format must be one of png, jpg, webp"],
  ])("rejects %j with exit 2", async (extra, message) => {
    const r = await cli(["gen", "--preset", "corporate", "--dry-run", ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it("an unknown identity is a usage error with the fix", async () => {
    const r = await cli(["gen", "--preset", "corporate", "--identity", "nobody", "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Unknown identity "nobody"');
    expect(r.stderr).toContain("headshot train");
  });

  it("an unwritable --out is refused before anything runs", async () => {
    const locked = join(ws.dir, "locked");
    await mkdir(locked);
    await chmod(locked, 0o500);
    const asFile = join(ws.dir, "file");
    await writeFile(asFile, "x");
    const r1 = await cli(["gen", "--preset", "corporate", "--dry-run", "--out", join(asFile, "sub")]);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain("is a file, not a folder");
    if (process.getuid?.() !== 0) {
      const r2 = await cli(["gen", "--preset", "corporate", "--dry-run", "--out", join(locked, "out")]);
      expect(r2.code).toBe(2);
      expect(r2.stderr).toContain("is not writable");
    }
  });

  it("a broken user preset gives located errors in --json as a failed summary", async () => {
    await writeFile(join(ws.dir, "broken.yaml"), "camera:\n  shot: portrait\n");
    const r = await cli(["gen", "--preset", "./broken.yaml", "--dry-run", "--json"]);
    expect(r.code).toBe(2);
    const last = r.json().at(-1) as { ok: boolean; error: { code: string; diagnostics: Array<{ location: { line: number } }> } };
    expect(last.ok).toBe(false);
    expect(last.error.code).toBe("E_CONFIG_INVALID");
    expect(last.error.diagnostics[0]?.location.line).toBe(2);
  });
});

describe("settings", () => {
  it("project config is found in a parent folder and sets defaults below flags", async () => {
    await writeFile(join(ws.dir, "headshot.config.yaml"), "out: ./team-shots\ndefaults:\n  count: 2\n");
    const sub = join(ws.dir, "sub");
    await mkdir(sub);
    const r1 = await runCli(["gen", "--preset", "corporate", "--dry-run", "--json"], { cwd: sub, env: ws.env });
    const summary1 = r1.json().at(-1) as { count: number; outDir: string };
    expect(summary1.count).toBe(2);
    expect(summary1.outDir).toBe(join(ws.dir, "team-shots"));
    const r2 = await runCli(["gen", "--preset", "corporate", "--dry-run", "--json", "--count", "3"], { cwd: sub, env: ws.env });
    expect((r2.json().at(-1) as { count: number }).count).toBe(3);
  });

  it("a project config with unknown keys fails with a location", async () => {
    await writeFile(join(ws.dir, "headshot.config.yaml"), "defaults:\n  cont: 2\n");
    const r = await cli(["gen", "--preset", "corporate", "--dry-run"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("headshot.config.yaml:2:3");
    expect(r.stderr).toContain('did you mean "count"?');
  });

  it("refuses a token in the project config without echoing it", async () => {
    await writeFile(join(ws.dir, "headshot.config.yaml"), "replicate:\n  token: r8_supersecretvalue\n");
    const r = await cli(["doctor"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("contains an API token");
    expect(r.stderr + r.stdout).not.toContain("r8_supersecretvalue");
  });
});

describe("help", () => {
  it("`headshot --help gen` prints gen's help, and a command's help lists the global flags", async () => {
    const r = await cli(["--help", "gen"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: headshot gen");
    expect(r.stdout).toMatch(/Global Options:[\s\S]*--json[\s\S]*--verbose/);
  });

  it("a bad HEADSHOT_BACKEND is blamed on the environment, with the backends train accepts", async () => {
    const r = await cli(["train", "selfies", "--name", "x"], { HEADSHOT_BACKEND: "replcate" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("HEADSHOT_BACKEND=replcate (from the environment)");
    expect(r.stderr).toContain("did you mean HEADSHOT_BACKEND=replicate?");
  });

  it("a dry run without a person says what a real run lacks", async () => {
    const r = await cli(["gen", "--preset", "corporate", "--count", "1", "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("To generate, add a person: --identity <name>");
    expect(r.stdout).not.toContain("Run the same command without --dry-run");
  });
});

describe("headshot doctor", () => {
  it("reports each part with its fix and never the token value", async () => {
    const r = await cli(["doctor", "--json"], { REPLICATE_API_TOKEN: "r8_doctortokenvalue" });
    expect(r.code).toBe(0);
    const checks = r.json().filter((l) => l.type === "check");
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId.node).toMatchObject({ status: "ok" });
    expect(byId.sharp).toMatchObject({ status: "ok" });
    // The installed face models are found through the package's exported entry (issue 15).
    expect(byId.faces).toMatchObject({ status: "ok" });
    expect(byId.faces.detail).toMatch(/@vladmandic[\\/]human[\\/]models$/);
    expect(byId["replicate-token"]).toMatchObject({ status: "ok" });
    expect(byId["ai-toolkit-gpu"]).toMatchObject({ status: "missing" });
    expect(byId["ai-toolkit-ai-toolkit"]).toMatchObject({ status: "missing" });
    expect(byId.home).toMatchObject({ status: "ok" });
    expect(r.stdout).not.toContain("r8_doctortokenvalue");
  });

  it("says how to set a missing token", async () => {
    const r = await cli(["doctor"]);
    expect(r.stdout).toMatch(/missing\s+Replicate token/);
    expect(r.stdout).toContain("export REPLICATE_API_TOKEN=");
  });
});
