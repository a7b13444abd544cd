import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { acquireTrainingLock } from "../../../src/training/lock.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "headshot-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("holds our pid while training and removes the lock when released", async () => {
  const release = await acquireTrainingLock(dir, "jane");
  expect(JSON.parse(await readFile(join(dir, "headshot.lock"), "utf8"))).toMatchObject({ pid: process.pid });
  await release();
  await expect(stat(join(dir, "headshot.lock"))).rejects.toThrow();
});

it("refuses while another live process holds it, and takes over a stale lock", async () => {
  const other = spawn("sleep", ["30"]);
  try {
    await writeFile(join(dir, "headshot.lock"), `${other.pid}\n`);
    await expect(acquireTrainingLock(dir, "jane")).rejects.toMatchObject({ code: "E_TRAIN_LOCKED", message: expect.stringContaining(`pid ${other.pid}`) });
  } finally {
    other.kill();
  }
  await new Promise((resolve) => other.once("exit", resolve));
  // That process is gone now: its lock is stale.
  const release = await acquireTrainingLock(dir, "jane");
  expect(JSON.parse(await readFile(join(dir, "headshot.lock"), "utf8"))).toMatchObject({ pid: process.pid });
  await release();
});
