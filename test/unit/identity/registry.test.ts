import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { identityPaths } from "../../../src/identity/paths.js";
import { embeddingCentroid, findIdentity, getIdentity, listIdentities, removeIdentity, saveIdentity, type Identity } from "../../../src/identity/registry.js";
import { sha256File } from "../../../src/util/hash-file.js";

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), "headshot-registry-"));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function identity(name: string, over: Partial<Identity> = {}): Identity {
  return {
    schemaVersion: 1,
    name,
    trigger: "ohwx",
    classWord: "woman",
    backend: "local",
    baseModel: "black-forest-labs/FLUX.1-dev",
    recipe: "flux1-dev",
    lora: { path: join(identityPaths(home, name).trainingDir, name, `${name}.safetensors`), sha256: "ab".repeat(32), bytes: 123, step: 1500 },
    training: { steps: 1500, rank: 16, lr: 1e-4, resolutions: [512, 768, 1024] },
    dataset: { dir: "/d", hash: "cd".repeat(32), images: 12, sourceDir: "/selfies" },
    selfies: { verdict: "ok", usable: 12, total: 14, selfSimilarity: { mean: 0.8, min: 0.6, p10: 0.65, count: 66 } },
    createdAt: "2026-11-27T05:00:00.000Z",
    ...over,
  };
}

describe("identity registry", () => {
  it("saves atomically, finds, lists and removes identities", async () => {
    const file = await saveIdentity(home, identity("jane"));
    expect(file).toBe(join(home, "identities", "jane", "identity.json"));
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ name: "jane", trigger: "ohwx" });
    expect((await readdir(join(home, "identities", "jane"))).filter((f) => f.startsWith(".headshot-tmp-"))).toEqual([]);
    await saveIdentity(home, identity("bob", { classWord: "man" }));
    // A training in progress (no identity.json yet) is not listed.
    await mkdir(join(home, "identities", "wip", "training"), { recursive: true });
    const { identities, problems } = await listIdentities(home);
    expect(identities.map((i) => i.name)).toEqual(["bob", "jane"]);
    expect(problems).toEqual([]);
    expect((await findIdentity(home, "jane"))?.classWord).toBe("woman");
    expect(await findIdentity(home, "wip")).toBeUndefined();

    await removeIdentity(home, "jane");
    await expect(stat(join(home, "identities", "jane"))).rejects.toThrow();
    expect((await listIdentities(home)).identities.map((i) => i.name)).toEqual(["bob"]);
  });

  it("suggests the nearest name when an identity is missing", async () => {
    await saveIdentity(home, identity("jane"));
    await expect(getIdentity(home, "jame")).rejects.toMatchObject({ code: "E_IDENTITY_NOT_FOUND", hint: expect.stringContaining("did you mean jane?") });
    await expect(getIdentity(home, "zzzzzzzz")).rejects.toMatchObject({ hint: expect.stringContaining("known identities: jane") });
  });

  it("reports a corrupt identity.json with the failing fields", async () => {
    await mkdir(join(home, "identities", "bad"), { recursive: true });
    await writeFile(join(home, "identities", "bad", "identity.json"), JSON.stringify({ schemaVersion: 1, name: "bad" }));
    await expect(getIdentity(home, "bad")).rejects.toMatchObject({ code: "E_IDENTITY_CORRUPT" });
    const { problems } = await listIdentities(home);
    expect(problems[0]).toMatch(/not a valid identity record/);
  });

  it("refuses names that are not safe folder and ai-toolkit job names", async () => {
    await expect(saveIdentity(home, identity("../escape"))).rejects.toMatchObject({ code: "E_IDENTITY_NAME" });
    await expect(findIdentity(home, "a/b")).rejects.toMatchObject({ code: "E_IDENTITY_NAME" });
  });

  it("hashes files with sha256", async () => {
    const file = join(home, "x.bin");
    await writeFile(file, "hello");
    expect(await sha256File(file)).toBe(createHash("sha256").update("hello").digest("hex"));
  });

  it("summarises embeddings as a renormalised centroid", () => {
    const c = embeddingCentroid([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(c).toEqual([0.707107, 0.707107, 0]);
    expect(embeddingCentroid([])).toBeUndefined();
  });
});
