/**
 * `gen --until K` (within `--max-count`) and `--budget`: the engine's CreateGate. The plan is
 * `--max-count` images with their seeds fixed up front, so the batch is deterministic and a re-run
 * resumes it from the manifest; the gate only decides how far down that plan to go. Each image is
 * scored as it lands (PassCounter); the stop rule is nextImage() (src/scoring/until.ts).
 *
 * With images in flight the gate is optimistic: while the images that passed plus those still
 * running could reach K, it waits for one of them to land before paying for another.
 */
import type { CreateGate } from "../generation/engine.js";
import type { ManifestEntry } from "../generation/manifest.js";
import type { PlannedImage } from "../generation/plan.js";
import type { ImageScore, IdentityReference } from "../scoring/similarity.js";
import { nextImage, PassCounter, type UntilDecision } from "../scoring/until.js";

export type StopDecision = Extract<UntilDecision, { go: false }>;

export interface UntilGateOptions {
  /** `--until K`; undefined: only `--budget` applies. */
  target?: number | undefined;
  /** Images in the plan (`--max-count` with --until). */
  maxCount: number;
  budgetUsd?: number | undefined;
  /** Price-table estimate of one image (src/pricing/prices.ts). */
  priceUsd: number;
  /** Needed with `target`. */
  reference?: IdentityReference | undefined;
  outDir: string;
  home: string;
  minSimilarity?: number | undefined;
  onScored?: (file: string, score: ImageScore, passed: boolean) => void;
}

export class UntilGate implements CreateGate {
  readonly counter: PassCounter | undefined;
  /** Why creating stopped (undefined: the plan ran out or nothing stopped it). */
  stopped: StopDecision | undefined;
  readonly warnings: string[] = [];
  /** Keys of images ever sent to the backend (this run or an earlier one). */
  private readonly started = new Set<string>();
  /** Admitted or resumed images that have not ended yet. */
  private readonly pending = new Set<string>();
  private readonly costs = new Map<string, number>();
  private waiters: Array<() => void> = [];

  constructor(private readonly options: UntilGateOptions) {
    if (options.target !== undefined && !options.reference) throw new Error("--until needs a reference to score against");
    this.counter = options.target !== undefined && options.reference
      ? new PassCounter(options.reference, { outDir: options.outDir, home: options.home, ...(options.minSimilarity !== undefined ? { minSimilarity: options.minSimilarity } : {}) })
      : undefined;
  }

  get passed(): number {
    return this.counter?.passed ?? 0;
  }

  /** Scores measured while generating, by file relative to outDir (for afterBatch's `scored`). */
  get scores(): Map<string, ImageScore> | undefined {
    return this.counter?.scores;
  }

  /** Money spent by the batch so far (earlier runs included), running images at their estimate. */
  spentUsd(): number {
    let spent = 0;
    for (const [key, cost] of this.costs) if (!this.pending.has(key)) spent += cost;
    return spent + this.pending.size * this.options.priceUsd;
  }

  async open(entries: ManifestEntry[]): Promise<void> {
    for (const e of entries) {
      this.costs.set(e.key, e.costUsd);
      if (e.status !== "planned" || e.attempts.length > 0) this.started.add(e.key);
      // Paid for in an earlier run and still to be collected: it may pass.
      if (e.status === "created" || e.status === "downloaded") this.pending.add(e.key);
    }
    // Images made by an earlier run count (the analysis cache makes this cheap on a re-run).
    for (const e of entries) if (e.status === "done" && e.file) await this.score(e.file);
  }

  async admit(image: PlannedImage, signal: AbortSignal): Promise<boolean> {
    const target = this.options.target ?? Number.POSITIVE_INFINITY;
    for (;;) {
      if (signal.aborted || this.stopped) return false;
      if (this.pending.size > 0 && this.passed + this.pending.size >= target) {
        await this.changed(signal);
        continue;
      }
      const again = this.started.has(image.key);
      const decision = nextImage({
        passed: this.passed,
        target,
        generated: this.started.size - (again ? 1 : 0),
        maxCount: this.options.maxCount,
        spentUsd: this.spentUsd(),
        ...(this.options.budgetUsd !== undefined ? { budgetUsd: this.options.budgetUsd } : {}),
        nextCostUsd: this.options.priceUsd,
      });
      if (!decision.go) {
        this.stopped = this.options.target === undefined && decision.reason === "budget" ? this.budgetOnly() : decision;
        this.notify();
        return false;
      }
      this.started.add(image.key);
      this.pending.add(image.key);
      return true;
    }
  }

  async settle(image: PlannedImage, entry: ManifestEntry | undefined): Promise<void> {
    if (entry) this.costs.set(image.key, entry.costUsd);
    // Scored before it stops counting as running, so no other image is admitted in between.
    if (entry?.status === "done" && entry.file) await this.score(entry.file);
    this.pending.delete(image.key);
    this.notify();
  }

  private budgetOnly(): StopDecision {
    const budget = this.options.budgetUsd ?? 0;
    return { go: false, reason: "budget", message: `stopped at the --budget of $${budget.toFixed(2)} ($${this.spentUsd().toFixed(2)} spent)` };
  }

  private async score(file: string): Promise<void> {
    if (!this.counter || this.counter.scores.has(file)) return;
    try {
      const { score, passed } = await this.counter.add(file);
      this.options.onScored?.(file, score, passed);
    } catch (error) {
      // A scoring failure must not lose the batch: the image is scored again after it.
      this.warnings.push(`${file}: not scored while generating (${error instanceof Error ? error.message : String(error)})`);
    }
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
