/** A fraction as a whole percentage (0.834 -> "83%"): likeness and thresholds in text, HTML and images. */
export function percent(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}
