/**
 * The free rehearsal in-process (issue 15): `train --backend test` registers a labelled rehearsal
 * identity apart from real ones; `gen --backend test` with it (or with --ref) draws previews from
 * the person's selfies, scores them for real, keeps the best, sets the planted failures aside and
 * cuts crops; real backends refuse the rehearsal identity. Real sharp and face models; no network.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readXmpFields } from "../../src/generation/xmp.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";
import { goodSelfies, writeAll } from "../support/selfies/build.js";

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
beforeAll(async () => {
  ws = await tempWorkspace("headshot-rehearsal-");
  await writeAll(join(ws.dir, "selfies"), await goodSelfies());
}, 120_000);
afterAll(async () => {
  await ws.cleanup();
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

describe("rehearsal (gen --backend test with a person)", () => {
  it("train --backend test registers a rehearsal identity that only --backend test accepts", { timeout: 240_000 }, async () => {
    const train = await runCli(["train", "selfies", "--name", "eileen", "--class", "woman", "--backend", "test"], { cwd: ws.dir, env: ws.env });
    expect(train.code, train.stderr).toBe(0);
    expect(train.stderr).toContain("REHEARSAL identity");
    // No LoRA was trained, so stdout names none (never a .safetensors path that does not exist).
    expect(train.stdout).toBe("eileen\t(rehearsal: no LoRA)\n");
    const identity = JSON.parse(await readFile(join(ws.home, "test-mode", "identities", "eileen", "identity.json"), "utf8")) as Json;
    expect(identity).toMatchObject({ placeholder: true, rehearsal: true, backend: "test" });

    for (const backend of ["replicate", "local"]) {
      const refused = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "eileen", "--backend", backend], { cwd: ws.dir, env: ws.env });
      expect(refused.code).toBe(2);
      expect((refused.json().at(-1) as Json).error).toMatchObject({ code: "E_IDENTITY_PLACEHOLDER" });
    }
  });

  it("previews come from the selfies, the planted failures are set aside and the best kept with crops", { timeout: 300_000 }, async () => {
    const out = join(ws.dir, "out");
    const r = await runCli(["--json", "gen", "--preset", "corporate", "--identity", "eileen", "--count", "6", "--seed", "3", "--keep-best", "2", "--crops", "--backend", "test", "--out", out], { cwd: ws.dir, env: ws.env });
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Json;
    const entries = Object.values(manifest.images) as Json[];
    const plants = entries.map((e) => e.rehearsal?.plant).sort();
    expect(plants).toEqual(["selfie", "selfie", "selfie", "small", "soft", "stranger"]);
    for (const e of entries) {
      expect(e.rehearsal.source).toBe("identity eileen");
      const xmp = readXmpFields(await xmpOf(join(out, e.file as string)));
      expect(xmp.description).toMatch(/^PREVIEW/);
    }
    const byPlant = (plant: string) => entries.find((e) => e.rehearsal.plant === plant)!;
    expect(byPlant("stranger")).toMatchObject({ kept: false, rejectedReason: "below_min_similarity" });
    expect(byPlant("soft")).toMatchObject({ kept: false, rejectedReason: "too_soft" });
    expect(["face_too_small", "no_face"]).toContain(byPlant("small").rejectedReason);
    const kept = entries.filter((e) => e.kept === true);
    expect(kept).toHaveLength(2);
    for (const e of kept) {
      expect(e.rehearsal.plant).toBe("selfie");
      expect(e.crops.length).toBeGreaterThan(0);
    }
    const gallery = await readFile(join(out, "index.html"), "utf8");
    expect(gallery).toContain("PREVIEW");
    expect(gallery).toContain("quality floor");
  });

  it("--ref rehearses from a selfie folder the same way", { timeout: 300_000 }, async () => {
    const out = join(ws.dir, "ref-out");
    const r = await runCli(["--json", "gen", "--preset", "linkedin", "--ref", "selfies", "--count", "3", "--seed", "11", "--keep-best", "1", "--backend", "test", "--out", out], { cwd: ws.dir, env: ws.env });
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as Json;
    const entries = Object.values(manifest.images) as Json[];
    expect(entries.every((e) => String(e.rehearsal?.source).startsWith("selfies "))).toBe(true);
    expect(entries.filter((e) => e.kept === true)).toHaveLength(1);
  });
});

async function xmpOf(path: string): Promise<string> {
  const { default: sharp } = await import("sharp");
  const meta = await sharp(path).metadata();
  return meta.xmp ? meta.xmp.toString("utf8") : "";
}
