/**
 * A full, over-quota or read-only disk is not a bug (issue 14, R2): ENOSPC, EDQUOT and EROFS
 * (errno(3)) become one typed error, exit 5, that names the folder, says what landed and how to
 * resume. Used by gen (engine), check --fix and batch.
 */
import { JobFailedError } from "../errors.js";

const DISK_CODES = ["ENOSPC", "EDQUOT", "EROFS"] as const;
export type DiskErrorCode = (typeof DISK_CODES)[number];

/** The errno code when `error` (or its cause) is a full, over-quota or read-only disk. */
export function diskErrorCode(error: unknown): DiskErrorCode | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (DISK_CODES as readonly string[]).includes(code)) return code as DiskErrorCode;
    const message = e instanceof Error ? e.message : "";
    // sharp and some libraries report the errno only in the message text.
    const named = DISK_CODES.find((c) => message.includes(c));
    if (named) return named;
    if (/no space left on device/i.test(message)) return "ENOSPC";
    if (/read-only file system/i.test(message)) return "EROFS";
    if (/disk quota exceeded/i.test(message)) return "EDQUOT";
  }
  return undefined;
}

const WHAT: Record<DiskErrorCode, string> = {
  ENOSPC: "is full",
  EDQUOT: "is over your disk quota",
  EROFS: "is read-only",
};

export class DiskFullError extends JobFailedError {
  readonly errno: DiskErrorCode;
  constructor(errno: DiskErrorCode, dir: string, options: { landed: string; resume: string; cause: unknown }) {
    super(`the disk holding ${dir} ${WHAT[errno]} (${errno})`, {
      code: "E_DISK_FULL",
      details: [options.landed],
      hint: `${errno === "EROFS" ? `write to a writable folder (--out)` : `free space on that disk (or pass --out on a bigger one)`}, then re-run: ${options.resume}`,
      cause: options.cause,
    });
    this.errno = errno;
  }
}
