import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { batchPath, loadBatchFile } from "../../../src/batch/load.js";
import { ConfigFileError } from "../../../src/errors.js";
import { loadPreset } from "../../../src/presets/load.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-batch-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("batch files", () => {
  it("the shipped example validates and its paths resolve next to the file", async () => {
    const loaded = await loadBatchFile("examples/team.yaml", process.cwd());
    expect(loaded.batch.people.map((p) => p.name)).toEqual(["grace", "eileen"]);
    expect(batchPath(loaded, loaded.batch.people[0]?.selfies ?? "")).toBe(join(process.cwd(), "examples", "selfies", "grace"));
    const custom = await loadPreset("./examples/presets/acme-brand.yaml", { cwd: process.cwd(), userDirs: [] });
    expect(custom.chain).toHaveLength(2);
  });

  it("the GitHub Actions example is valid YAML that runs batch with the token from secrets", async () => {
    const { readFile } = await import("node:fs/promises");
    const workflow = parse(await readFile("examples/github-actions-headshots.yml", "utf8")) as { jobs: { headshots: { steps: Array<{ run?: string; env?: Record<string, string> }> } } };
    const step = workflow.jobs.headshots.steps.find((s) => s.run?.includes("batch team.yaml"));
    expect(step?.env?.REPLICATE_API_TOKEN).toBe("${{ secrets.REPLICATE_API_TOKEN }}");
    // Without an explicit `shell: bash` GitHub runs `bash -e` without pipefail: `| tee` would hide the exit code.
    expect((step as { shell?: string } | undefined)?.shell).toBe("bash");
  });

  it("reports every problem with its location", async () => {
    const file = join(dir, "bad.yaml");
    await writeFile(
      file,
      ["budjet: 10", "people:", "  - name: Jane", "    selfies: ./a", "    identity: jane", "  - name: raj", "    selfies: ./r", "    presets: [corporate]", "    clas: man", ""].join("\n"),
    );
    const error = await loadBatchFile(file, dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigFileError);
    const diagnostics = (error as ConfigFileError).diagnostics;
    const find = (text: string) => diagnostics.find((d) => d.message.includes(text));
    expect(find('unknown key "budjet"')?.hint).toBe('did you mean "budget"?');
    expect(find('unknown key "budjet"')?.location?.line).toBe(1);
    expect(find("people[0].name")?.location?.line).toBe(3);
    expect(find("exactly one of `selfies`")?.location?.line).toBe(3);
    expect(find('unknown key "clas"')?.hint).toBe('did you mean "class"?');
    expect(find("no presets")).toBeDefined();
  });

  it("refuses the same person twice", async () => {
    const file = join(dir, "dupe.yaml");
    await writeFile(file, "defaults:\n  presets: [corporate]\npeople:\n  - {name: a, identity: a}\n  - {name: a, identity: b}\n");
    const error = (await loadBatchFile(file, dir).catch((e: unknown) => e)) as ConfigFileError;
    expect(error.diagnostics[0]?.message).toContain('"a" is already listed');
    expect(error.diagnostics[0]?.location?.line).toBe(5);
  });
});
