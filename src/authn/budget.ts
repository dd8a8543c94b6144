/**
 * A token bucket bounding the calls Gatehouse makes to an identity provider: `burst` calls at
 * once, refilled at `count` per `periodMs`. Used per provider for introspection, so a storm of
 * distinct random opaque tokens (none of which can be cached) costs the IdP at most the budget.
 * State is two numbers; a call costs one subtraction, no timer.
 */
export class CallBudget {
  private tokens: number;
  private last: number;
  private readonly perMs: number;

  /**
   * @param count calls per `periodMs` (sustained rate)
   * @param periodMs the rate's period in milliseconds
   * @param burst bucket size (calls allowed at once after a quiet period)
   * @param now clock in epoch milliseconds (tests inject one)
   */
  constructor(
    count: number,
    periodMs: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = count / periodMs;
    this.tokens = burst;
    this.last = now();
  }

  /**
   * Takes one call from the budget. Returns 0 when the call may go ahead, otherwise the
   * milliseconds until one will be available (nothing is taken then).
   */
  take(): number {
    const t = this.now();
    if (t > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (t - this.last) * this.perMs);
      this.last = t;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.tokens) / this.perMs));
  }

  /** Calls available right now (metrics, tests). */
  get available(): number {
    return Math.floor(this.tokens);
  }
}
