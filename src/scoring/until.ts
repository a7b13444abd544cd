/**
 * `gen --until K` (within `--max-count` and `--budget`): score each image as it lands and say when
 * to stop creating. The engine owns the creating; this owns the counting and the stop rule, so
 * the rule is one pure function that tests can table-drive.
 */
import { IDENTITY_THRESHOLDS } from "./calibration.js";
import { scoreImage } from "./score-images.js";
import { passes } from "./select.js";
import type { IdentityReference, ImageScore } from "./similarity.js";

export interface UntilState {
  /** Images that passed so far. */
  passed: number;
  /** `--until K`. */
  target: number;
  /** Images created so far (landed or still running). */
  generated: number;
  /** `--max-count`: never create more than this many. */
  maxCount: number;
  /** Money spent so far and the cap (`--budget`), in USD; the next image's estimated cost. */
  spentUsd: number;
  budgetUsd?: number;
  nextCostUsd: number;
}

export type UntilDecision = { go: true } | { go: false; reason: "reached" | "max_count" | "budget"; message: string };

/** Whether to create one more image. */
export function nextImage(state: UntilState): UntilDecision {
  if (state.passed >= state.target) return { go: false, reason: "reached", message: `${state.passed} of ${state.target} images look like you` };
  if (state.generated >= state.maxCount) {
    return { go: false, reason: "max_count", message: `stopped at --max-count ${state.maxCount} with ${state.passed} of ${state.target} images that look like you` };
  }
  if (state.budgetUsd !== undefined && state.spentUsd + state.nextCostUsd > state.budgetUsd + 1e-9) {
    return {
      go: false,
      reason: "budget",
      message: `stopped at the --budget of $${state.budgetUsd.toFixed(2)} ($${state.spentUsd.toFixed(2)} spent) with ${state.passed} of ${state.target} images that look like you`,
    };
  }
  return { go: true };
}

/** Scores images as they land and counts those that pass; hand `scores` to curate() afterwards. */
export class PassCounter {
  readonly scores = new Map<string, ImageScore>();
  private count = 0;

  constructor(
    private readonly reference: IdentityReference,
    private readonly options: { outDir: string; home?: string; minSimilarity?: number },
  ) {}

  get passed(): number {
    return this.count;
  }

  /** `file` relative to outDir. */
  async add(file: string): Promise<{ score: ImageScore; passed: boolean }> {
    const { join } = await import("node:path");
    const score = await scoreImage(join(this.options.outDir, file), this.reference, { root: this.options.outDir, ...(this.options.home ? { home: this.options.home } : {}) });
    const ok = passes(score, this.options.minSimilarity ?? IDENTITY_THRESHOLDS.match);
    if (!this.scores.has(score.file) && ok) this.count++;
    this.scores.set(score.file, score);
    return { score, passed: ok };
  }
}
