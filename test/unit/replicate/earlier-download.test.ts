/** findEarlierDownload: a complete image under the final name is found; anything else is not. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findEarlierDownload } from "../../../src/replicate/earlier-download.js";

const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-earlier-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("findEarlierDownload", () => {
  it("finds a PNG under the final name, with its hash, size and type", async () => {
    await writeFile(join(dir, "k-001-a2.png"), Buffer.concat([PNG_HEAD, Buffer.from("rest")]));
    expect(await findEarlierDownload(dir, "k-001-a2")).toMatchObject({ path: join(dir, "k-001-a2.png"), bytes: 12, contentType: "image/png", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it("ignores another attempt's file, a temp file, an empty file and bytes that are not the named type", async () => {
    await writeFile(join(dir, "k-001-a1.png"), PNG_HEAD);
    await writeFile(join(dir, ".tmp-k-001-a2.png"), PNG_HEAD);
    expect(await findEarlierDownload(dir, "k-001-a2")).toBeUndefined();
    await writeFile(join(dir, "k-001-a2.jpg"), PNG_HEAD);
    await writeFile(join(dir, "k-001-a2.webp"), "");
    expect(await findEarlierDownload(dir, "k-001-a2")).toBeUndefined();
  });
});
