/**
 * The batch's prediction slots: `concurrency` in total across every person and preset, so a
 * batch never has more predictions in flight than asked (Replicate's 600 creates/min stays far
 * away). A preset run asks for as many slots as it has images left (at most all of them) and
 * waits, first come first served, until that many are free; it then runs with that concurrency.
 * Runs with few images share the slots, so a batch of many small presets keeps them all busy, and
 * a run gives slots back as its last images finish (it can never use more than it has left).
 */
import type { Slots } from "./preset-step-types.js";

export class WeightedSlots implements Slots {
  private free: number;
  private readonly waiting: Array<{ wanted: number; wake: () => void }> = [];

  constructor(readonly total: number) {
    this.free = Math.max(1, total);
  }

  get inUse(): number {
    return this.total - this.free;
  }

  async withSlots<T>(wanted: number, fn: (granted: number, giveBack: (n: number) => void) => Promise<T>): Promise<T> {
    const granted = Math.max(1, Math.min(wanted, this.total));
    await this.acquire(granted);
    let held = granted;
    // A run that has fewer images left than slots can never use the rest: they go back at once.
    const giveBack = (n: number) => {
      const back = Math.min(Math.max(0, Math.floor(n)), held - 1);
      if (back <= 0) return;
      held -= back;
      this.release(back);
    };
    try {
      return await fn(granted, giveBack);
    } finally {
      this.release(held);
    }
  }

  private acquire(n: number): Promise<void> {
    if (this.waiting.length === 0 && this.free >= n) {
      this.free -= n;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push({ wanted: n, wake: resolve }));
  }

  private release(n: number): void {
    this.free += n;
    // FIFO: the head waits until enough is free, so big runs are not starved by small ones.
    while (this.waiting.length > 0 && (this.waiting[0]?.wanted ?? 0) <= this.free) {
      const next = this.waiting.shift()!;
      this.free -= next.wanted;
      next.wake();
    }
  }
}

/**
 * A FIFO mutex: the one local GPU, or the face models (selfie checks and scoring share one worker
 * pool in the process, and a Replicate training closes it after its check).
 */
export class Lane {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Waits for the lane; the returned function releases it (calling it twice is harmless). */
  async acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const before = this.tail;
    this.tail = before.then(() => held);
    await before;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  }
}
