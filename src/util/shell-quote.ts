/** Quotes one argument for a POSIX shell, only when it needs it (resume commands people paste). */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command line people can paste: each argument quoted when needed. */
export function commandLine(args: readonly string[]): string {
  return args.map(shellQuote).join(" ");
}
