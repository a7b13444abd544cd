import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPreset } from "../../../src/presets/load.js";
import { expandVariations } from "../../../src/presets/variations.js";

describe("README preset example", () => {
  it("is a valid preset whose variations form the documented 2 x 2 matrix", async () => {
    const readme = await readFile(join(process.cwd(), "README.md"), "utf8");
    const block = /```yaml\n(# yaml-language-server[^\n]*\nname: team[\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), "headshot-readme-"));
    try {
      await writeFile(join(dir, "team.yaml"), block as string);
      const preset = await loadPreset("./team.yaml", { cwd: dir, userDirs: [] });
      expect(expandVariations(preset.data).map((v) => v.label)).toEqual([
        "tailored-navy-blazer_window",
        "tailored-navy-blazer_rembrandt",
        "charcoal_window",
        "charcoal_rembrandt",
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
