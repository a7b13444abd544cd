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

/** British spellings people type for the schema's American keys ("colour" -> colorTemperature). */
const SPELLINGS: ReadonlyArray<[RegExp, string]> = [
  [/colour/gi, "color"],
  [/grey/gi, "gray"],
];

/**
 * "Did you mean" for an unknown key: a typo of a known key, or the start of one once spelt the
 * American way ("colour" -> "colorTemperature", as the README promises).
 */
export function closestKey(input: string, keys: ReadonlyArray<string>): string | undefined {
  const typo = closest(input, keys);
  if (typo) return typo;
  const american = SPELLINGS.reduce((text, [re, to]) => text.replace(re, to), input);
  return american !== input ? closest(american, keys) : undefined;
}
