/**
 * The three counting algorithms, as pure functions over a small mutable state record. The
 * memory store runs them directly; `LUA_TAKE` is the same arithmetic for Redis, and one shared
 * conformance suite (test/limits/store-conformance.test.ts) holds both to the same answers.
 *
 * - `gcra`: token bucket as the Generic Cell Rate Algorithm (one number per key: the
 *   theoretical arrival time). `intervalMs` = period / rate, `burst` = bucket size.
 * - `fixed`: N per calendar-aligned window (epoch multiples of `windowMs`).
 * - `sliding`: sliding-window approximation: the previous window's count weighted by the part
 *   of it still inside the sliding window, plus the current window's count.
 */

/** How one limit counts. Plain data, built once at config load. */
export interface LimitAlgorithm {
  readonly algo: 'gcra' | 'fixed' | 'sliding';
  /** gcra: ms between tokens. */
  readonly intervalMs: number;
  /** gcra: bucket size. fixed/sliding: quota per window. */
  readonly limit: number;
  /** fixed/sliding: window length in ms. gcra: intervalMs × burst. */
  readonly windowMs: number;
}

/** Outcome of one `take`. All durations in milliseconds from `now`. */
export interface TakeResult {
  readonly allowed: boolean;
  /** Budget left after this request (0 when denied). */
  readonly remaining: number;
  /** Time until the budget is fully restored (gcra) or the window rolls over (quotas). */
  readonly resetMs: number;
  /** When denied: time until one request would be allowed. 0 when allowed. */
  readonly retryAfterMs: number;
}

/** Per-key state. gcra: a = TAT. fixed: a = window, b = count. sliding: a = window, b = current, c = previous. */
export interface BucketState {
  a: number;
  b: number;
  c: number;
  /** Epoch ms after which the state is worthless (what Redis PEXPIRE gets). */
  exp: number;
}

const EPS = 1e-9;

/** Outcome of taking up to n tokens at once (a lease): how many were granted. */
export interface LeaseResult extends TakeResult {
  /** Tokens granted, 0 when denied; never more than asked for. */
  readonly granted: number;
}

/** Applies one request to `s` (mutated only when allowed). */
export function take(s: BucketState, lim: LimitAlgorithm, now: number): TakeResult {
  return takeUpTo(s, lim, now, 1);
}

/**
 * Applies up to `n` requests at once to `s` — as many as the budget allows, at least one or
 * none. `n = 1` is exactly {@link take}. A lease of k tokens is counted as k requests at `now`.
 */
export function takeUpTo(s: BucketState, lim: LimitAlgorithm, now: number, n: number): LeaseResult {
  if (lim.algo === 'gcra') {
    const tat = s.a > now ? s.a : now;
    const allowAt = tat + lim.intervalMs - lim.windowMs;
    if (now < allowAt)
      return {
        allowed: false,
        granted: 0,
        remaining: 0,
        resetMs: Math.ceil(tat - now),
        retryAfterMs: Math.ceil(allowAt - now),
      };
    const k = Math.min(n, 1 + Math.floor((now - allowAt) / lim.intervalMs + EPS));
    const newTat = tat + k * lim.intervalMs;
    s.a = newTat;
    s.exp = Math.ceil(newTat);
    return {
      allowed: true,
      granted: k,
      remaining: Math.floor((now - (newTat - lim.windowMs)) / lim.intervalMs + EPS),
      resetMs: Math.ceil(newTat - now),
      retryAfterMs: 0,
    };
  }
  const w = lim.windowMs;
  const win = Math.floor(now / w);
  const end = (win + 1) * w;
  if (lim.algo === 'fixed') {
    const count = s.a === win ? s.b : 0;
    if (count >= lim.limit)
      return { allowed: false, granted: 0, remaining: 0, resetMs: end - now, retryAfterMs: end - now };
    const k = Math.min(n, lim.limit - count);
    s.a = win;
    s.b = count + k;
    s.exp = end;
    return {
      allowed: true,
      granted: k,
      remaining: lim.limit - count - k,
      resetMs: end - now,
      retryAfterMs: 0,
    };
  }
  let curr = 0;
  let prev = 0;
  if (s.a === win) {
    curr = s.b;
    prev = s.c;
  } else if (s.a === win - 1) prev = s.b;
  const elapsed = now - win * w;
  const est = (prev * (w - elapsed)) / w + curr;
  if (est + 1 > lim.limit + EPS)
    return {
      allowed: false,
      granted: 0,
      remaining: 0,
      resetMs: end - now,
      retryAfterMs: slidingWait(curr, prev, lim.limit, w, elapsed),
    };
  const k = Math.min(n, Math.max(1, Math.floor(lim.limit - est + EPS)));
  s.a = win;
  s.b = curr + k;
  s.c = prev;
  s.exp = end + w;
  return {
    allowed: true,
    granted: k,
    remaining: Math.max(0, Math.floor(lim.limit - est - k + EPS)),
    resetMs: end - now,
    retryAfterMs: 0,
  };
}

/** Time until `prev·(w−e)/w + curr + 1 ≤ q` holds, assuming no further requests. */
function slidingWait(curr: number, prev: number, q: number, w: number, elapsed: number): number {
  if (curr + 1 <= q) return Math.max(1, Math.ceil(w - ((q - curr - 1) * w) / prev - elapsed));
  return Math.max(1, Math.ceil(w - elapsed + Math.max(0, w - ((q - 1) * w) / curr)));
}

/**
 * The Redis version of {@link takeUpTo}: one atomic script, one key, one round trip. Returns
 * `{granted, remaining, resetMs, retryAfterMs}` (granted 0 = denied); state expires by itself
 * (PEXPIRE). KEYS[1] = bucket key; ARGV = algo ("g"|"f"|"s"), now, intervalMs, limit,
 * windowMs, n (most tokens to take).
 */
export const LUA_TAKE = `
local k = KEYS[1]
local algo = ARGV[1]
local now = tonumber(ARGV[2])
local T = tonumber(ARGV[3])
local q = tonumber(ARGV[4])
local w = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
local eps = 1e-9
if algo == 'g' then
  local tat = tonumber(redis.call('GET', k) or '0')
  if tat < now then tat = now end
  local allowAt = tat + T - w
  if now < allowAt then return {0, 0, math.ceil(tat - now), math.ceil(allowAt - now)} end
  local g = math.min(n, 1 + math.floor((now - allowAt) / T + eps))
  local newTat = tat + g * T
  redis.call('SET', k, string.format('%.6f', newTat), 'PX', math.max(1, math.ceil(newTat - now)))
  return {g, math.floor((now - (newTat - w)) / T + eps), math.ceil(newTat - now), 0}
end
local win = math.floor(now / w)
local e = (win + 1) * w
local st = redis.call('HMGET', k, 'w', 'b', 'c')
local sw = tonumber(st[1] or '-1')
local sb = tonumber(st[2] or '0')
local sc = tonumber(st[3] or '0')
if algo == 'f' then
  local count = 0
  if sw == win then count = sb end
  if count >= q then return {0, 0, e - now, e - now} end
  local g = math.min(n, q - count)
  redis.call('HSET', k, 'w', win, 'b', count + g)
  redis.call('PEXPIRE', k, math.max(1, e - now))
  return {g, q - count - g, e - now, 0}
end
local curr = 0
local prev = 0
if sw == win then curr = sb; prev = sc elseif sw == win - 1 then prev = sb end
local elapsed = now - win * w
local est = prev * (w - elapsed) / w + curr
if est + 1 > q + eps then
  local wait
  if curr + 1 <= q then wait = math.ceil(w - (q - curr - 1) * w / prev - elapsed)
  else wait = math.ceil(w - elapsed + math.max(0, w - (q - 1) * w / curr)) end
  return {0, 0, e - now, math.max(1, wait)}
end
local g = math.min(n, math.max(1, math.floor(q - est + eps)))
redis.call('HSET', k, 'w', win, 'b', curr + g, 'c', prev)
redis.call('PEXPIRE', k, math.max(1, e + w - now))
return {g, math.max(0, math.floor(q - est - g + eps)), e - now, 0}
`;
