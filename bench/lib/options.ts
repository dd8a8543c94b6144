/**
 * Runner options, read once from the environment (see bench/README.md).
 */
export interface BenchOptions {
  /** Measured rounds; every candidate runs once per round, interleaved. */
  readonly rounds: number;
  /** Seconds per measured load run (`wrk -d`). */
  readonly duration: number;
  /** Seconds of the single warm-up run per candidate. */
  readonly warmup: number;
  /**
   * Seconds of unmeasured load right before each measured run (0: none). A Node candidate left
   * idle while the others run shrinks its young generation; its first second back under load
   * then collects every few milliseconds (docs/benchmarks.md, "Tails"), which is not its
   * steady state.
   */
  readonly roundWarmup: number;
  /** Open connections (`wrk -c`). */
  readonly connections: number;
  /** CPU of the load generator / of the proxy and the upstream. */
  readonly loadCpu: number;
  readonly proxyCpu: number;
  /** Candidate id substrings to run (nginx reference always runs); empty = all. */
  readonly only: readonly string[];
  /** Distinct tokens for the cold-cache candidates. */
  readonly coldTokens: number;
  /** Access/audit log destination for Gatehouse candidates: a file in the run directory, or /dev/null. */
  readonly logTarget: 'file' | 'devnull';
  /** Skip the micro-benchmarks (route matching, identity propagation). */
  readonly skipMicro: boolean;
  /** A run during which other processes used more than this % of the proxy core is repeated… */
  readonly maxOtherPercent: number;
  /** …at most this many times (the least disturbed attempt is kept). */
  readonly noisyRetries: number;
  readonly quick: boolean;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** Parses `10`, `10s`, `1m`, `500ms` into whole seconds (at least 1). */
export function parseSeconds(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!m) throw new Error(`${name}: expected a duration such as "10s" or "1m", got ${JSON.stringify(raw)}`);
  const v = Number(m[1]);
  const s = m[2] === 'm' ? v * 60 : m[2] === 'ms' ? v / 1000 : v;
  return Math.max(1, Math.round(s));
}

/** Reads `BENCH_*` variables; `BENCH_QUICK=1` is a 3-round, 3-second smoke run. */
export function readOptions(env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const log = env.BENCH_LOG ?? 'file';
  if (log !== 'file' && log !== 'devnull')
    throw new Error(`BENCH_LOG: expected "file" or "devnull", got ${JSON.stringify(log)}`);
  return {
    quick,
    rounds: positiveInt(env, 'BENCH_ROUNDS', quick ? 3 : 5),
    duration: parseSeconds('BENCH_DURATION', env.BENCH_DURATION, quick ? 3 : 10),
    warmup: parseSeconds('BENCH_WARMUP', env.BENCH_WARMUP, quick ? 2 : 5),
    roundWarmup:
      env.BENCH_ROUND_WARMUP === '0'
        ? 0
        : parseSeconds('BENCH_ROUND_WARMUP', env.BENCH_ROUND_WARMUP, quick ? 0 : 1),
    connections: positiveInt(env, 'BENCH_CONNECTIONS', 50),
    loadCpu: Number(env.BENCH_LOAD_CPU ?? 0),
    proxyCpu: Number(env.BENCH_PROXY_CPU ?? 1),
    only: (env.BENCH_ONLY ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    coldTokens: positiveInt(env, 'BENCH_COLD_TOKENS', 20_000),
    logTarget: log,
    skipMicro: env.BENCH_SKIP_MICRO === '1',
    maxOtherPercent: Number(env.BENCH_MAX_OTHER ?? 15),
    noisyRetries: Number(env.BENCH_NOISY_RETRIES ?? (quick ? 0 : 2)),
  };
}
