/**
 * Issue 14, R2: a full disk in `gen` and `check --fix` is a typed error (exit 5, E_DISK_FULL)
 * naming the folder, what landed and how to resume, never "this is a bug". The output folder is
 * a real 16 MB tmpfs, so ENOSPC comes from the kernel; where mounting is not allowed (no
 * CAP_SYS_ADMIN) these tests are skipped and say so.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeSelfies } from "../support/batch/workspace.js";
import { runCli, tempWorkspace } from "../support/run-cli.js";

function canMount(): boolean {
  const probe = mkdtempSync(join(tmpdir(), "headshot-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const MOUNTABLE = canMount();
if (!MOUNTABLE) process.stderr.write("disk-full tests skipped: no permission to mount a tmpfs here\n");

let ws: Awaited<ReturnType<typeof tempWorkspace>>;
let disk: string;
beforeEach(async () => {
  ws = await tempWorkspace();
  disk = join(ws.dir, "disk");
  mkdirSync(disk);
  if (MOUNTABLE) execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", disk], { stdio: "ignore" });
});
afterEach(async () => {
  if (MOUNTABLE) execFileSync("umount", [disk], { stdio: "ignore" });
  await ws.cleanup();
});

/** Leaves about `keep` bytes free on the tmpfs. */
function fill(keep: number): string {
  const free = Number(execFileSync("df", ["-B1", "--output=avail", disk]).toString().split("\n")[1]);
  const ballast = join(disk, "ballast");
  execFileSync("fallocate", ["-l", String(Math.max(0, free - keep)), ballast]);
  return ballast;
}

const cli = (argv: string[]) => runCli(argv, { cwd: ws.dir, env: ws.env });

describe.skipIf(!MOUNTABLE)("R2: a full disk is a clear error", () => {
  it("gen: exit 5 naming the folder, what landed and how to resume; the re-run completes", { timeout: 120_000 }, async () => {
    const out = join(disk, "out");
    const argv = ["--json", "gen", "--preset", "corporate", "--count", "8", "--seed", "3", "--backend", "test", "--concurrency", "2", "--out", out];
    const ballast = fill(400_000);
    const full = await cli(argv);
    expect(full.code, full.stdout.slice(-2000)).toBe(5);
    const summary = full.json().at(-1) as { ok: boolean; error: { code: string; message: string; details: string[]; hint: string } };
    expect(summary).toMatchObject({ type: "summary", ok: false, error: { code: "E_DISK_FULL", exitCode: 5 } });
    expect(summary.error.message).toContain(out);
    expect(summary.error.message).toContain("ENOSPC");
    expect(summary.error.details[0]).toMatch(/^\d+ of 8 images landed and are kept/);
    expect(summary.error.hint).toContain("gen --preset corporate");
    expect(full.stderr).toBe("");
    // R3: the summary is the last line; images still in flight when the disk filled wrote nothing after it.
    expect(full.json().findIndex((l) => l.type === "summary")).toBe(full.json().length - 1);
    // Nothing half-written: every file the manifest calls done matches its hash.
    await rm(ballast);
    const again = await cli(argv);
    expect(again.code, again.stdout.slice(-2000)).toBe(0);
    expect(again.json().at(-1)).toMatchObject({ type: "summary", ok: true, done: 8 });
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as { images: Record<string, { status: string }> };
    expect(Object.values(manifest.images).every((e) => e.status === "done")).toBe(true);
    expect((await readdir(out)).filter((f) => f.startsWith(".headshot-tmp-"))).toEqual([]);
  });

  it.each([150_000, 8_192, 0])("gen, human output, %d bytes free: the error is not called a bug", { timeout: 120_000 }, async (keep) => {
    fill(keep);
    const r = await cli(["gen", "--preset", "corporate", "--count", "6", "--seed", "3", "--backend", "test", "--out", join(disk, "out")]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain("is full (ENOSPC)");
    expect(r.stderr).not.toContain("this is a bug");
  });

  it("check --fix: exit 5, nothing half-written, the re-run writes the folder", { timeout: 180_000 }, async () => {
    await writeSelfies(join(ws.dir, "selfies"));
    const out = join(disk, "prepared");
    const ballast = fill(200_000);
    const full = await cli(["--json", "check", "selfies", "--fix", "--out", out]);
    expect(full.code, full.stdout.slice(-2000)).toBe(5);
    const summary = full.json().at(-1) as { error: { code: string; message: string; details: string[]; hint: string } };
    expect(summary.error.code).toBe("E_DISK_FULL");
    expect(summary.error.message).toContain(out);
    expect(summary.error.details[0]).toContain("nothing was written");
    expect(summary.error.hint).toContain("check selfies --fix");
    expect((await readdir(disk)).filter((f) => f !== "ballast")).toEqual([]);
    await rm(ballast);
    const again = await cli(["--json", "check", "selfies", "--fix", "--out", out]);
    expect(again.code).toBe(0);
    expect((await readdir(join(out, "images"))).length).toBeGreaterThan(0);
  });
});
