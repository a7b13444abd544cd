/**
 * One writer per output folder (issue 14, S3): two `gen` runs into one folder would both create
 * (and pay for) every image and overwrite each other's files. The lock is a small JSON file made
 * with O_EXCL, holding the owner's pid, host and process start time, so it survives crashes:
 * - held by a live process on this host: refused at once (exit 2) naming the pid and the folder,
 *   before any request;
 * - held by a dead process (or a reused pid whose start time differs): taken over with a notice;
 * - held on another host (a shared disk): refused, naming the host; the hint says how to clear it.
 * Start times come from /proc/<pid>/stat field 22 (proc(5)); where /proc is missing only the pid
 * is checked. src/training/lock.ts is the same idea for training folders.
 */
import { readFileSync } from "node:fs";
import { link, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { UsageError } from "../errors.js";

export const LOCK_FILE = ".headshot.lock";

export interface LockOwner {
  pid: number;
  host: string;
  /** Kernel start time of the process (clock ticks since boot), when known. */
  startTicks?: string;
  startedAt: string;
  command: string;
}

export interface LockTakeover {
  folder: string;
  previous: LockOwner;
}

/** Field 22 of /proc/<pid>/stat (after the parenthesised command name, which may hold spaces). */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** True when the recorded owner is certainly gone (this host, and no such process any more). */
export function ownerIsGone(owner: LockOwner, host = hostname()): boolean {
  if (owner.host !== host) return false;
  if (owner.pid === process.pid) return false;
  if (!Number.isInteger(owner.pid) || owner.pid <= 0 || !alive(owner.pid)) return true;
  // The pid is in use: by the same process only if its start time matches.
  const ticks = processStartTicks(owner.pid);
  return owner.startTicks !== undefined && ticks !== undefined && ticks !== owner.startTicks;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockOwner>;
    if (typeof value.pid === "number" && typeof value.host === "string") return value as LockOwner;
  } catch {
    // An older pid-only lock, or a file cut short by a crash between create and write.
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? { pid, host: hostname(), startedAt: "", command: "" } : undefined;
}

function lockedError(folder: string, owner: LockOwner, what: string): UsageError {
  const where = owner.host === hostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on host ${owner.host}`;
  return new UsageError(`${folder} is in use by another headshot run (${where}${owner.command ? `: ${owner.command}` : ""})`, {
    code: "E_FOLDER_LOCKED",
    details: [`two runs into one folder would both pay for every image; ${what} was not started`, `lock: ${join(folder, LOCK_FILE)}${owner.startedAt ? `, taken ${owner.startedAt}` : ""}`],
    hint:
      owner.host === hostname()
        ? `wait for it to finish or stop it (Ctrl-C in its terminal, or kill -INT ${owner.pid}), then re-run: finished images are kept`
        : `if no run on ${owner.host} uses this folder any more, delete ${join(folder, LOCK_FILE)} and re-run`,
  });
}

/** Throws E_FOLDER_LOCKED when a live run holds `folder` now (a preflight check; takes nothing). */
export async function assertNotLocked(folder: string, what: string): Promise<void> {
  const owner = parseOwner(await readFile(join(folder, LOCK_FILE), "utf8").catch(() => ""));
  if (owner && !ownerIsGone(owner)) throw lockedError(folder, owner, what);
}

/**
 * Takes the folder's lock or throws E_FOLDER_LOCKED (exit 2). Returns the release function and,
 * when a dead run's lock was taken over, who held it (for the notice).
 */
export async function acquireFolderLock(
  folder: string,
  options: { command: string; what?: string; lockFile?: string; lockedError?: (owner: LockOwner) => Error },
): Promise<{ release: () => Promise<void>; takeover?: LockTakeover }> {
  await mkdir(folder, { recursive: true });
  const file = join(folder, options.lockFile ?? LOCK_FILE);
  const refuse = (owner: LockOwner): Error => options.lockedError?.(owner) ?? lockedError(folder, owner, options.what ?? "this run");
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command: options.command };
  const ticks = processStartTicks(process.pid);
  if (ticks) me.startTicks = ticks;
  let takeover: LockTakeover | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, "wx");
      try {
        await handle.writeFile(`${JSON.stringify(me)}\n`);
      } finally {
        await handle.close();
      }
      const release = async () => {
        // Only our own lock is removed (a takeover by another run after a hang must stay).
        const current = parseOwner(await readFile(file, "utf8").catch(() => ""));
        if (current?.pid === me.pid && current.host === me.host) await rm(file, { force: true });
      };
      return { release, ...(takeover ? { takeover } : {}) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const text = await readFile(file, "utf8").catch(() => "");
    const owner = parseOwner(text);
    if (owner && !ownerIsGone(owner)) throw refuse(owner);
    // Stale (or empty: its writer died between create and write). Move it aside under a unique
    // name, so two runs that both found it stale cannot both delete a fresh lock: only one rename
    // of that file succeeds.
    const aside = `${file}.stale-${process.pid}-${attempt}`;
    try {
      await rename(file, aside);
    } catch {
      continue; // someone else moved it first: try again
    }
    const moved = parseOwner(await readFile(aside, "utf8").catch(() => ""));
    if (moved && owner && (moved.pid !== owner.pid || moved.startedAt !== owner.startedAt)) {
      // We moved a fresh lock another run had just taken: put it back (link fails if a third run
      // took the name meanwhile, which then holds the folder) and leave the folder to it.
      await link(aside, file).catch(() => undefined);
      await rm(aside, { force: true });
      throw refuse(moved);
    }
    await rm(aside, { force: true });
    if (owner) takeover = { folder, previous: owner };
  }
  throw new UsageError(`could not lock ${folder}`, { code: "E_FOLDER_LOCKED", hint: `remove ${file} if no headshot run uses this folder` });
}
