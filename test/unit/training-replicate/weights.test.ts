import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { extractLora, LORA_ENTRY } from "../../../src/training/replicate/weights.js";
import { buildSafetensors, buildWeightsTar } from "../../support/replicate-emulator/index.js";
import { buildTar, sha256, type TarEntry } from "./support.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-weights-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function extractFrom(entries: TarEntry[] | Buffer, maxBytes?: number) {
  const tarPath = join(dir, `t${++n}.tar`);
  await writeFile(tarPath, Buffer.isBuffer(entries) ? entries : await buildTar(entries));
  const out = join(dir, `out${n}`, "jane.safetensors");
  return { out, promise: extractLora(tarPath, out, maxBytes !== undefined ? { maxBytes } : {}) };
}

const lora = buildSafetensors(4, "ohwx");

describe("extractLora", () => {
  it("extracts the trainer's real layout and checks the safetensors header", async () => {
    const { out, promise } = await extractFrom(await buildWeightsTar({ rank: 4, triggerWord: "ohwx", captions: 2 }));
    const result = await promise;
    expect(result.path).toBe(out);
    expect(sha256(await readFile(out))).toBe(sha256(buildSafetensors(4, "ohwx")));
    expect(result.metadata).toMatchObject({ trigger_word: "ohwx" });
    // Only the LoRA was written: no captions, no config, no temp files.
    expect(await readdir(join(out, ".."))).toEqual(["jane.safetensors"]);
  });

  const hostile: Array<[string, TarEntry[], RegExp]> = [
    ["a path traversal", [{ name: "output/flux_train_replicate/../../../../etc/cron.d/x", body: "boom" }, { name: LORA_ENTRY, body: lora }], /escaping the archive/],
    ["an absolute path", [{ name: "/tmp/evil", body: "boom" }, { name: LORA_ENTRY, body: lora }], /absolute path/],
    ["a symlink named like the LoRA", [{ name: LORA_ENTRY, type: "symlink", linkname: "/etc/passwd" }], /symlink/],
    ["a hard link", [{ name: LORA_ENTRY, body: lora }, { name: "output/flux_train_replicate/x", type: "link", linkname: "/etc/shadow" }], /link/],
    ["a file outside output/flux_train_replicate/", [{ name: LORA_ENTRY, body: lora }, { name: "home/user/.bashrc", body: "boom" }], /outside output\/flux_train_replicate/],
    ["no LoRA at all", [{ name: "output/flux_train_replicate/config.yaml", body: "x: 1" }], /has no output\/flux_train_replicate\/lora\.safetensors/],
    ["a LoRA that is not safetensors", [{ name: LORA_ENTRY, body: "<html>not found</html>" }], /not a safetensors file/],
    ["the LoRA twice", [{ name: LORA_ENTRY, body: lora }, { name: LORA_ENTRY, body: lora }], /appears twice/],
  ];
  for (const [what, entries, message] of hostile) {
    it(`refuses a tar with ${what} and writes nothing`, async () => {
      const { out, promise } = await extractFrom(entries);
      await expect(promise).rejects.toMatchObject({ code: "E_REPLICATE_WEIGHTS_UNSAFE", message: expect.stringMatching(message) });
      await expect(readdir(join(out, ".."))).resolves.toEqual([]);
    });
  }

  it("enforces the size cap", async () => {
    const { promise } = await extractFrom([{ name: LORA_ENTRY, body: lora }], 100);
    await expect(promise).rejects.toMatchObject({ code: "E_REPLICATE_WEIGHTS_UNSAFE", message: expect.stringMatching(/cap/) });
  });
});
