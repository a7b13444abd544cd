/** Quotes one argument for a POSIX shell, only when it needs it (resume commands people paste). */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A command line people can paste: each argument quoted when needed. */
export function commandLine(args: readonly string[]): string {
  return args.map(shellQuote).join(" ");
}

/** One flag of a command to paste: `--flag value` when set, the bare `--flag` when true, nothing when undefined or false. */
export type Flag = readonly [flag: string, value: string | number | boolean | undefined];

export function flagArgs(flags: readonly Flag[]): string[] {
  return flags.flatMap(([flag, value]) => (value === undefined || value === false ? [] : value === true ? [flag] : [flag, String(value)]));
}

/** `headshot <words...> <flags...>`, quoted to paste: the resume commands of train, gen, batch and check. */
export function headshotCommand(words: readonly string[], flags: readonly Flag[]): string {
  return commandLine(["headshot", ...words, ...flagArgs(flags)]);
}
