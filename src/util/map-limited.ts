/**
 * Maps items through an async step, at most `concurrency` at a time, and on the first failure
 * starts no new step but waits for the ones in flight before it rethrows that failure.
 *
 * Why not `Promise.all` over `p-limit`: `Promise.all` rejects while sibling steps are still
 * writing, so a caller's cleanup (`rm -r` of a staging folder) races their writes and fails with
 * ENOTEMPTY, which then hides the real error (seen in CI: a full disk reported as E_BUG).
 */
export async function mapLimited<T, R>(items: readonly T[], concurrency: number, step: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const index = next++;
      try {
        results[index] = await step(items[index] as T, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane));
  if (failure) throw failure.error;
  return results;
}
