/** The global limit on paid creates (https://replicate.com/docs/topics/predictions/rate-limits). */
import { systemClock, type Clock } from "./clock.js";

/**
 * At most `limit` paid creates in any `windowMs` (Replicate: 600 prediction creates per minute).
 * One instance per process is shared by every client (`sharedCreateLimiter`), so two batches in
 * one process cannot add up past the limit. A 429 pauses all creates for its Retry-After.
 */
export class RateLimiter {
  private stamps: number[] = [];
  private pausedUntil = 0;
  constructor(
    readonly limit = 600,
    readonly windowMs = 60_000,
    private readonly clock: Clock = systemClock,
  ) {}

  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      this.stamps = this.stamps.filter((t) => t > now - this.windowMs);
      let waitMs = this.pausedUntil - now;
      if (waitMs <= 0 && this.stamps.length < this.limit) {
        this.stamps.push(now);
        return;
      }
      if (waitMs <= 0) waitMs = (this.stamps[0] ?? now) + this.windowMs - now;
      await this.clock.sleep(Math.max(1, waitMs), signal);
    }
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }
}

export const sharedCreateLimiter = new RateLimiter();
