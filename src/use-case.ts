/**
 * What every use case (train, generate, check, score, batch, doctor) receives besides its plain
 * input: it never sees argv, a reporter or the CLI's context. The CLI turns events into output
 * (src/cli/views/); batch forwards them with the person they belong to.
 */
export interface UseCaseIo<E> {
  /** Fires on Ctrl-C / SIGTERM; long work stops cleanly and keeps what it made for a resume. */
  signal: AbortSignal;
  onEvent: (event: E) => void;
  /** Asks a yes/no question; absent when nobody can answer (no TTY, CI, --json, batch). */
  confirm?: ((question: string) => Promise<boolean>) | undefined;
  now: () => Date;
}
