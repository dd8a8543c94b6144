import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/**
 * Factor by which V8 grows the young generation's semi-space when a scavenge finds it too small
 * (V8's default: 2). Idle for a few seconds, a process sees a low allocation rate at its next
 * scavenge and V8 shrinks the semi-space to its 1 MB minimum. Back under load, doubling took
 * four growths and about 80 scavenges of a 1 MB space; a request's objects, still in flight
 * across two of them, were promoted, and the old generation they filled cost two full
 * collections (8–11 ms pauses, marking steps up to 10 ms) in the next 6 s. With 16 the space is
 * back at its 16 MB maximum after one growth. Measured on `gh-plain` after 45 s idle
 * (docs/benchmarks.md, "The young generation after idle"): 2 → 0 full collections, p99 / p50
 * 3.1–4.8 → 1.8–2.2.
 */
export const YOUNG_GROWTH_FACTOR = 16;

/** What {@link tuneGc} set, for the start-up log line. */
export interface GcTuning {
  /** V8 flags set, as passed to `v8.setFlagsFromString`. */
  readonly flags: readonly string[];
  /** True when parallel scavenging was turned off (one CPU). */
  readonly oneCpu: boolean;
}

/**
 * Tunes V8's collector for a long-running gateway, once at start-up. Both flags are read by V8
 * at every scavenge or growth, so setting them at run time takes effect at once (the
 * start-up-only flags, such as `--min-semi-space-size`, cannot be set here: Node refuses them in
 * `NODE_OPTIONS` and V8 ignores them after start).
 *
 * - `--semi-space-growth-factor` ({@link YOUNG_GROWTH_FACTOR}), on every host.
 * - `--no-parallel-scavenge` when the process may use one CPU only (`taskset`, a cpuset): V8's
 *   scavenger helpers would run on the CPU the main thread waits on, and the hand-offs cost.
 *   Measured on the cold RS256 bench row pinned to one CPU: 2.1 ms scavenges plus 0.85 ms of
 *   helper-thread work each, against 1.9 ms and none without them.
 *
 * @param cpus CPUs this process may run on (`os.availableParallelism()`: its affinity mask).
 */
export function tuneGc(cpus: number = availableParallelism()): GcTuning {
  const flags = [`--semi-space-growth-factor=${YOUNG_GROWTH_FACTOR}`];
  const oneCpu = cpus <= 1;
  if (oneCpu) flags.push('--no-parallel-scavenge');
  for (const f of flags) setFlagsFromString(f);
  return { flags, oneCpu };
}
