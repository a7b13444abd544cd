/**
 * Issue 14, secrets: S1 (no token-shaped value or the configured token in any output) and
 * S2 (`extends` confined to preset names and .yaml files under the preset's own folder; files
 * that are not presets never have their lines shown).
 */
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli, tempWorkspace, type CliResult } from "../support/run-cli.js";

const TOKEN_SHAPED = "r8_S3cr3tV4lu3FromAFile0123456789";
const REAL_TOKEN = "r8_TheRealConfiguredTokenValue42";
/** A secret with no r8_ shape: only the exact configured value can catch it. */
const PLAIN_TOKEN = "plain-token-without-prefix-0042";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
beforeEach(async () => {
  ws = await tempWorkspace();
});
afterEach(() => ws.cleanup());

const cli = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { cwd: ws.dir, env: { ...ws.env, ...env } });
const everything = (r: CliResult) => r.stdout + r.stderr;

describe("S1: token-shaped values never reach any output", () => {
  it.each([
    ["backend", `backend: ${TOKEN_SHAPED}\n`],
    ["out (a list where a string belongs)", `out: [${TOKEN_SHAPED}]\n`],
    ["an unknown key", `bakcend: ${TOKEN_SHAPED}\n`],
    ["defaults.model with a syntax error nearby", `defaults:\n  model: ${TOKEN_SHAPED}\n  count: [1,\n`],
  ])("a config holding one under %s: redacted on stderr and in --json", async (_label, yaml) => {
    await writeFile(join(ws.dir, "headshot.config.yaml"), yaml);
    for (const json of [false, true]) {
      const r = await cli([...(json ? ["--json"] : []), "gen", "--identity", "ann", "--preset", "linkedin", "--dry-run"]);
      expect(r.code).toBe(2);
      expect(everything(r)).not.toContain(TOKEN_SHAPED);
      expect(everything(r)).not.toContain("S3cr3t");
      if (json) expect(r.json().at(-1)).toMatchObject({ type: "summary", ok: false, error: { code: "E_CONFIG_INVALID" } });
      else expect(r.stderr).toContain("headshot.config.yaml:");
    }
  });

  it("the configured REPLICATE_API_TOKEN value is redacted wherever it appears, even without the r8_ shape", async () => {
    await writeFile(join(ws.dir, "headshot.config.yaml"), `out: [${PLAIN_TOKEN}]\nbackend: ${REAL_TOKEN}\n`);
    const r = await cli(["--json", "presets", "list"], { REPLICATE_API_TOKEN: PLAIN_TOKEN });
    await cli(["presets", "list"], { REPLICATE_API_TOKEN: PLAIN_TOKEN }).then((human) => expect(everything(human)).not.toContain(PLAIN_TOKEN));
    expect(everything(r)).not.toContain(PLAIN_TOKEN);
    expect(everything(r)).not.toContain(REAL_TOKEN);
  });

  it("a token in a preset's free text is redacted in the error detail", async () => {
    await mkdir(join(ws.dir, "presets"));
    await writeFile(join(ws.dir, "presets", "leak.yaml"), `name: leak\nbackground: 12\nattire: [${TOKEN_SHAPED}]\n`);
    const r = await cli(["--json", "presets", "validate", "presets/leak.yaml"]);
    expect(r.code).toBe(2);
    expect(everything(r)).not.toContain(TOKEN_SHAPED);
  });

  it("a token in a usage error (an unknown option) is redacted", async () => {
    const r = await cli(["presets", "list", `--${TOKEN_SHAPED}`]);
    expect(r.code).toBe(2);
    expect(everything(r)).not.toContain(TOKEN_SHAPED);
  });
});

describe("S2: extends reads only presets", () => {
  const secretEnv = `REPLICATE_API_TOKEN=${TOKEN_SHAPED}\nAWS_SECRET=wJalrXUtnFEMI-K7MDENG-bPxRfiCY\n`;

  async function presetExtending(ref: string): Promise<CliResult> {
    await mkdir(join(ws.dir, "team", "presets"), { recursive: true });
    await writeFile(join(ws.dir, "team", "presets", "pr.yaml"), `name: pr\nextends: ${ref}\n`);
    return cli(["--json", "presets", "show", "./team/presets/pr.yaml"]);
  }

  beforeEach(async () => {
    await writeFile(join(ws.dir, ".env"), secretEnv);
    await mkdir(join(ws.dir, "team"), { recursive: true });
    await writeFile(join(ws.dir, "team", "secrets.yaml"), `aws_secret: wJalrXUtnFEMI-K7MDENG-bPxRfiCY\n`);
  });

  it.each([
    ["../../../../../../../../etc/passwd", ".yaml or .yml"],
    ["/etc/passwd", "absolute"],
    ["../../.env", ".yaml or .yml"],
    ["../../.env.yaml", "outside"],
    ["../secrets.yaml", "outside"],
    ["./.env", ".yaml or .yml"],
  ])("extends: %s is refused without reading it", async (ref, why) => {
    const r = await presetExtending(ref);
    expect(r.code).toBe(2);
    const text = everything(r);
    expect(text).toContain("E_CONFIG_INVALID");
    expect(text).toContain(why);
    expect(text).not.toContain("root:");
    expect(text).not.toContain("wJalrXUtnFEMI");
    expect(text).not.toContain("AWS_SECRET");
  });

  it("a link inside the folder that points outside it is refused", async () => {
    await mkdir(join(ws.dir, "team", "presets"), { recursive: true });
    await symlink(join(ws.dir, "team", "secrets.yaml"), join(ws.dir, "team", "presets", "base.yaml"));
    const r = await presetExtending("./base.yaml");
    expect(r.code).toBe(2);
    expect(everything(r)).toContain("links outside");
    expect(everything(r)).not.toContain("wJalrXUtnFEMI");
  });

  it("a relative .yaml inside the folder and a preset name still work", async () => {
    await mkdir(join(ws.dir, "team", "presets", "base"), { recursive: true });
    await writeFile(join(ws.dir, "team", "presets", "base", "house.yaml"), "name: house\nextends: corporate\nattire: a navy blazer\n");
    const r = await presetExtending("./base/house.yaml");
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain("a navy blazer");
  });

  it("a file that is not a preset (passed with --preset) gets located errors without its lines", async () => {
    await writeFile(join(ws.dir, "team", "keys.yaml"), `aws_secret: wJalrXUtnFEMI-K7MDENG-bPxRfiCY\nother: 1\n`);
    for (const file of ["./team/keys.yaml", "./.env"]) {
      const r = await cli(["--json", "presets", "validate", file]);
      expect(r.code).toBe(2);
      expect(everything(r)).not.toContain("wJalrXUtnFEMI");
      expect(everything(r)).not.toContain("lineText");
    }
  });

  it("a real preset with a typo still shows its line and caret", async () => {
    await mkdir(join(ws.dir, "presets"));
    await writeFile(join(ws.dir, "presets", "typo.yaml"), "name: typo\nbackgrund: grey\n");
    const r = await cli(["presets", "validate", "presets/typo.yaml"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("2 | backgrund: grey");
  });
});
