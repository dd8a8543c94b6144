import type { LeaseResult, LimitAlgorithm } from './algorithms.js';
import { LUA_TAKE } from './algorithms.js';
import type { RedisClient } from './redis.js';
import type { LimitStore } from './store.js';

type TakeReply = [number, number, number, number];
interface WithTake {
  ghLimitTake(
    key: string,
    algo: string,
    now: number,
    intervalMs: number,
    limit: number,
    windowMs: number,
    n: number,
  ): Promise<TakeReply>;
}

/**
 * Limit store shared by every instance through Redis: one atomic Lua script per check
 * (EVALSHA, falling back to EVAL when the script is not cached), one key per bucket that
 * expires on its own. Rejects when Redis is unreachable or slower than `command_timeout`.
 */
export class RedisLimitStore implements LimitStore {
  readonly kind = 'redis' as const;
  readonly #client: RedisClient & WithTake;
  readonly #prefix: string;

  constructor(client: RedisClient, keyPrefix: string) {
    if (!('ghLimitTake' in client)) client.defineCommand('ghLimitTake', { numberOfKeys: 1, lua: LUA_TAKE });
    this.#client = client as RedisClient & WithTake;
    this.#prefix = `${keyPrefix}rl:`;
  }

  take(key: string, limit: LimitAlgorithm, now: number): Promise<LeaseResult> {
    return this.takeUpTo(key, limit, now, 1);
  }

  /** Takes up to `n` tokens in one round trip (a lease, `src/limits/lease.ts`). */
  async takeUpTo(key: string, limit: LimitAlgorithm, now: number, n: number): Promise<LeaseResult> {
    const r = await this.#client.ghLimitTake(
      this.#prefix + key,
      limit.algo[0] as string,
      now,
      limit.intervalMs,
      limit.limit,
      limit.windowMs,
      n,
    );
    return { allowed: r[0] > 0, granted: r[0], remaining: r[1], resetMs: r[2], retryAfterMs: r[3] };
  }

  close(): void {
    /* the shared client is closed by its owner */
  }
}
