import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/**
 * V8 collects the young generation with helper threads (`--parallel-scavenge`) and makes the
 * main thread wait for them. A process allowed on one CPU only (`taskset`, a cpuset) gains
 * nothing from that: the helpers run on the CPU the main thread waits on, and the hand-offs
 * cost. Measured on the cold RS256 bench row pinned to one CPU: 2.1 ms scavenges plus 0.85 ms of
 * helper-thread work each, against 1.9 ms and none without them (docs/benchmarks.md, "GC on one
 * CPU"). The flag is read at every scavenge, so setting it at start-up takes effect at once.
 *
 * @param cpus CPUs this process may run on (`os.availableParallelism()`: its affinity mask).
 * @returns true when parallel scavenging was turned off.
 */
export function tuneGcForCpus(cpus: number = availableParallelism()): boolean {
  if (cpus > 1) return false;
  setFlagsFromString('--no-parallel-scavenge');
  return true;
}
