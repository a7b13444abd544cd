/**
 * Shared by the `train --backend replicate` tests (unit, command, e2e): a usable selfie folder
 * built from the public-domain fixtures, tar helpers, and polling helpers.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { extract, pack } from "tar-stream";
import { goodSelfies, writeAll } from "../../support/selfies/build.js";

/** The same usable set as test/cli/train-local.test.ts: one person, eight varied photos. */
export async function writeSelfies(dir: string): Promise<void> {
  await writeAll(dir, await goodSelfies());
}

export type TarEntry = { name: string; body?: Buffer | string; type?: "file" | "symlink" | "link" | "directory"; linkname?: string };

export async function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    tar.on("end", () => resolve());
    tar.on("error", reject);
  });
  for (const e of entries) {
    const header = { name: e.name, type: e.type ?? "file", mtime: new Date(0), ...(e.linkname ? { linkname: e.linkname } : {}) } as const;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (e.type && e.type !== "file") tar.entry(header, cb);
      else tar.entry(header, e.body ?? "", cb);
    });
  }
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Every regular file of a tar, by name. */
export async function readTar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on("entry", (header, stream, next) => {
      const parts: Buffer[] = [];
      stream.on("data", (c: unknown) => void parts.push(c as Buffer));
      stream.on("end", () => {
        if (header.type === "file") out.set(header.name, Buffer.concat(parts));
        next();
      });
    });
    tar.on("finish", resolve);
    tar.on("error", reject);
  });
  tar.end(bytes);
  await done;
  return out;
}

export const sha256 = (bytes: Buffer | Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, stepMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The persisted remote state of an identity, or undefined. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function remoteState(home: string, name: string): Promise<Record<string, any> | undefined> {
  try {
    return JSON.parse(await readFile(join(home, "identities", name, "training", "replicate.json"), "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
