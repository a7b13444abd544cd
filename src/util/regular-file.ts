/**
 * Reading only what is a regular file, of a bounded size (issue 14, R1). A symlink to /dev/zero
 * would stream forever and a FIFO blocks a libuv thread on open until a writer appears (an
 * uninterruptible hang: SIGTERM cannot stop it), so the target is stat'ed (links followed) and
 * its size checked before anything is opened, and the file is opened with O_NONBLOCK so a FIFO
 * swapped in after the stat still cannot block.
 */
import { constants } from "node:fs";
import type { Dirent } from "node:fs";
import { open, stat } from "node:fs/promises";

export type NotReadableReason = "directory" | "fifo" | "socket" | "device" | "other" | "too-large" | "missing";

/** What a path is (links followed), in words a person recognises. */
export function describeKind(stats: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): NotReadableReason | "file" {
  if (stats.isDirectory()) return "directory";
  if (stats.isFIFO()) return "fifo";
  if (stats.isSocket()) return "socket";
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return "device";
  return "other";
}

export const REASON_TEXT: Record<NotReadableReason, string> = {
  directory: "a folder, not a file",
  fifo: "a named pipe (FIFO), not a file",
  socket: "a socket, not a file",
  device: "a device, not a file",
  other: "not a regular file",
  "too-large": "too large",
  missing: "missing or a broken link",
};

export class NotReadableError extends Error {
  constructor(
    readonly path: string,
    readonly reason: NotReadableReason,
    readonly size?: number,
  ) {
    super(`${path} is ${REASON_TEXT[reason]}`);
    this.name = "NotReadableError";
  }
}

/** "a named pipe (FIFO)", "a device"...: the kind, without ", not a file". */
function kindText(stats: Parameters<typeof describeKind>[0]): string {
  return REASON_TEXT[describeKind(stats) as NotReadableReason].replace(/, not a file$/, "");
}

/**
 * Why a folder entry is not a photo, or undefined when it is a regular file (links followed), for
 * `check` and `score` listing a folder: a link to /dev/zero or a FIFO is never opened (one reads
 * forever, the other blocks a libuv thread on open), a link to a folder is named as such and not
 * followed (issue 14, R1 and R8).
 */
export async function whyNotAPhoto(entry: Dirent, path: string): Promise<string | undefined> {
  if (entry.isFile()) return undefined;
  if (!entry.isSymbolicLink()) return `${kindText(entry)}, not a photo`;
  const target = await stat(path).catch(() => undefined);
  if (!target) return "a broken link (its target does not exist)";
  if (target.isFile()) return undefined;
  if (target.isDirectory()) return "a link to a folder, not a photo (links to folders are not followed)";
  return `a link to ${kindText(target)}, not a photo`;
}

/** Stat (following links) and refuse anything but a regular file of at most `maxBytes`. */
export async function checkRegularFile(path: string, maxBytes: number): Promise<number> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new NotReadableError(path, "missing");
  }
  if (!info.isFile()) {
    const kind = describeKind(info);
    throw new NotReadableError(path, kind === "file" ? "other" : kind);
  }
  if (info.size > maxBytes) throw new NotReadableError(path, "too-large", info.size);
  return info.size;
}

/** Reads a regular file of at most `maxBytes` (checked before and while reading). */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  await checkRegularFile(path, maxBytes);
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NotReadableError(path, describeKind(info) as NotReadableReason);
    if (info.size > maxBytes) throw new NotReadableError(path, "too-large", info.size);
    const buffer = Buffer.alloc(info.size);
    let offset = 0;
    while (offset < info.size) {
      const { bytesRead } = await handle.read(buffer, offset, info.size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return offset === info.size ? buffer : buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

/** Text files headshot reads (presets, batch files, the project config) are small. */
export const MAX_YAML_BYTES = 1024 * 1024;

/** A YAML text file, refused with a typed reason unless it is a regular file under 1 MB. */
export async function readYamlText(path: string): Promise<string> {
  return (await readRegularFile(path, MAX_YAML_BYTES)).toString("utf8");
}
