/** A request waiting for an upstream connection. */
export interface Waiter {
  /** Ended already (aborted by its client): skipped, never failed again. */
  readonly done: boolean;
  /** `performance.now()` when it started waiting. */
  queuedAt: number;
  fail(err: Error): void;
}

/**
 * The bounded first-in-first-out wait of one upstream pool for a free connection: at most
 * `max` waiters (0: none may wait), each for at most `timeout` milliseconds (0: no limit). A
 * request over either bound fails with its own error instead of waiting without end behind
 * connections held by others (slow uploads, slow upstream responses).
 */
export class WaitQueue<T extends Waiter> {
  private readonly items: T[] = [];

  constructor(
    private readonly max: number,
    private readonly timeout: number,
  ) {}

  /** Waiters, including ones that ended and were not removed yet. */
  get length(): number {
    return this.items.length;
  }

  /** Appends `w`; false when the queue is full (nothing added). */
  push(w: T, now: number): boolean {
    if (this.items.length >= this.max) {
      this.prune();
      if (this.items.length >= this.max) return false;
    }
    w.queuedAt = now;
    this.items.push(w);
    return true;
  }

  /** Removes and returns the longest-waiting live waiter. */
  shift(): T | undefined {
    let next = this.items.shift();
    while (next?.done) next = this.items.shift();
    return next;
  }

  /** Removes `w` (its client went away). */
  remove(w: T): void {
    const i = this.items.indexOf(w);
    if (i >= 0) this.items.splice(i, 1);
  }

  /**
   * Fails every waiter that waited `timeout` or longer with `error()`. Waiters are in arrival
   * order, so only the front is looked at.
   */
  expire(now: number, error: () => Error): void {
    if (this.timeout === 0) return;
    const items = this.items;
    while (items.length > 0) {
      const first = items[0] as T;
      if (!first.done && now - first.queuedAt < this.timeout) return;
      items.shift();
      if (!first.done) first.fail(error());
    }
  }

  /** Removes and returns every waiter. */
  drain(): T[] {
    return this.items.splice(0);
  }

  /** Drops ended waiters (a full queue may hold some whose clients left). */
  private prune(): void {
    const live = this.items.filter((w) => !w.done);
    this.items.length = 0;
    this.items.push(...live);
  }
}
