/** "Did you mean" suggestions for unknown keys, presets and values. */
import { distance } from "fastest-levenshtein";

/**
 * The closest candidate to `input`, or undefined when nothing is close enough to be a typo
 * (at most a third of the word may differ, and at least 1 edit is always allowed).
 */
export function closest(input: string, candidates: ReadonlyArray<string>): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const lower = candidate.toLowerCase();
    // A prefix match ("corp" -> "corporate") is a strong signal even when the edit distance is large.
    const d = lower.startsWith(needle) && needle.length >= 3 ? 1 : distance(needle, lower);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  const allowed = Math.max(1, Math.floor(needle.length / 3));
  return bestDistance <= allowed ? best : undefined;
}
