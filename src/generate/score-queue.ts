/**
 * Scoring pipelined with generation (issue 18): `gen --identity` scores each image as soon as it
 * lands, while the other predictions are still running, so the batch takes about as long as the
 * slower of generation and scoring instead of their sum. The hook is the engine's CreateGate
 * `settle` ("an image ended"): it admits everything and never waits for a score, so no slot is
 * held for scoring. afterBatch (src/curation/after-batch.ts) then finds every image already scored
 * and only scores what this queue missed (an image made by an earlier run, a scoring failure).
 */
import { join } from "node:path";
import pLimit from "p-limit";
import type { CreateGate } from "../generation/engine.js";
import type { ManifestEntry } from "../generation/manifest.js";
import type { IdentityReference, ImageScore } from "../scoring/similarity.js";

/** Images decoded and scored at once: two per face-model worker keeps both cores busy. */
const IN_FLIGHT = 4;

export class ScoreQueue implements CreateGate {
  readonly scores = new Map<string, ImageScore>();
  readonly warnings: string[] = [];
  private readonly jobs = new Set<Promise<void>>();
  private readonly limit = pLimit(IN_FLIGHT);

  constructor(
    private readonly reference: IdentityReference,
    private readonly options: { outDir: string; home: string; signal?: AbortSignal },
  ) {}

  admit(): Promise<boolean> {
    return Promise.resolve(true);
  }

  settle(_image: unknown, entry: ManifestEntry | undefined): Promise<void> {
    if (entry?.status === "done" && entry.file) this.enqueue(entry.file);
    return Promise.resolve();
  }

  /** `file` relative to outDir. */
  enqueue(file: string): void {
    const job = this.limit(() => this.score(file)).finally(() => this.jobs.delete(job));
    this.jobs.add(job);
  }

  /** Waits for every queued score (call before using `scores`). */
  async drain(): Promise<Map<string, ImageScore>> {
    while (this.jobs.size) await Promise.all([...this.jobs]);
    return this.scores;
  }

  private async score(file: string): Promise<void> {
    if (this.options.signal?.aborted || this.scores.has(file)) return;
    try {
      const { scoreImage } = await import("../scoring/score-images.js");
      const score = await scoreImage(join(this.options.outDir, file), this.reference, { root: this.options.outDir, home: this.options.home });
      this.scores.set(score.file, score);
    } catch (error) {
      // Never loses the batch: afterBatch scores it again.
      this.warnings.push(`${file}: not scored while generating (${error instanceof Error ? error.message : String(error)})`);
    }
  }
}
