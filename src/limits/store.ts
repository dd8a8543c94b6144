import type { LimitAlgorithm, TakeResult } from './algorithms.js';

export type { LimitAlgorithm, TakeResult } from './algorithms.js';

/**
 * Where limit counters live. `take` applies one request to the bucket `key` and answers
 * whether it is allowed. The memory store answers synchronously (no Promise on the hot
 * path); the Redis store answers with a Promise and rejects when Redis is unreachable.
 */
export interface LimitStore {
  readonly kind: 'memory' | 'redis';
  take(key: string, limit: LimitAlgorithm, now: number): TakeResult | Promise<TakeResult>;
  close(): Promise<void> | void;
}
