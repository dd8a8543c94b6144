import { join } from 'node:path';
import type { RecordingUpstream } from '../../test/helpers/upstream.js';
import type { FloorSpec } from './floors.js';
import type { RunningNginx } from './nginx.js';
import type { BenchOptions } from './options.js';
import type { LoadSpec } from './wrk.js';

/** What every candidate's `start` gets: options, the run directory, the shared upstreams. */
export interface BenchContext {
  readonly opts: BenchOptions;
  /** Temporary directory of this run (configs, Lua scripts, logs, token files). */
  readonly dir: string;
  /** The nginx `return 200` upstream every proxy forwards to. */
  readonly upstream: RunningNginx;
  /** A node echo upstream (answers with the headers it received) for correctness gates only. */
  echo(): Promise<RecordingUpstream>;
  /** Shared, lazily created helpers (JWKS server, token sets…), by name. */
  readonly shared: Map<string, Promise<unknown>>;
  /** Registers teardown for shared helpers (run after every candidate stopped). */
  cleanup(fn: () => Promise<void> | void): void;
  log(line: string): void;
}

/** A candidate that is up and passed its correctness gate. */
export interface RunningCandidate {
  /** Pid of the proxy under test: CPU and peak RSS are read over it and its descendants. */
  readonly pid: number;
  /** Other processes whose CPU and RSS count as the candidate's (e.g. its redis-server). */
  readonly extraPids?: readonly number[] | undefined;
  readonly load: LoadSpec;
  /** Log/audit files: their growth per request is reported, and they are truncated between runs. */
  readonly logFiles?: readonly string[] | undefined;
  /** Figures read from the candidate after the rounds (e.g. cache size and hit ratio), printed under the tables. */
  notes?(): Promise<string[]>;
  stop(): Promise<void>;
}

/** One benchmark candidate (a row of the table). */
export interface Candidate {
  readonly id: string;
  readonly label: string;
  /** Candidate whose rps this one is also compared with, paired per round (e.g. `gh-plain`). */
  readonly relativeTo?: string | undefined;
  readonly floors: readonly FloorSpec[];
  /** Runs only when named in BENCH_ONLY (self-tests such as nginx vs nginx). */
  readonly optIn?: boolean | undefined;
  /**
   * Starts the proxy, runs the correctness gate (throwing on failure) and returns the running
   * candidate. Throws {@link SkipCandidate} when a module it needs has not landed yet.
   */
  start(ctx: BenchContext): Promise<RunningCandidate>;
}

/** Per-candidate log file in the run directory, or /dev/null (`BENCH_LOG=devnull`). */
export function logFile(ctx: BenchContext, name: string): string {
  return ctx.opts.logTarget === 'devnull' ? '/dev/null' : join(ctx.dir, `${name}.log`);
}

/** Memoises shared set-up (one JWKS server, one token set…) across candidates. */
export function shared<T>(ctx: BenchContext, key: string, make: () => Promise<T>): Promise<T> {
  let p = ctx.shared.get(key) as Promise<T> | undefined;
  if (!p) {
    p = make();
    ctx.shared.set(key, p);
  }
  return p;
}
