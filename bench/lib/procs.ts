import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/**
 * Every process the runner starts is registered here and killed when the runner exits, is
 * interrupted (SIGINT/SIGTERM/SIGHUP) or crashes. Only pids we started are ever signalled.
 */
const owned = new Set<number>();
let hooked = false;
const exitHooks: (() => void)[] = [];

/** Synchronous clean-up run when the runner exits, however it exits (e.g. removing temp dirs). */
export function onExit(fn: () => void): void {
  hookExit();
  exitHooks.push(fn);
}

function killAll(signal: NodeJS.Signals): void {
  for (const pid of owned) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    killAll('SIGKILL');
    for (const fn of exitHooks) fn();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}, stopping ${owned.size} child process(es)\n`);
      killAll('SIGTERM');
      setTimeout(() => process.exit(130), 500).unref();
    });
  }
  process.on('uncaughtException', (e) => {
    process.stderr.write(`bench: ${e.stack ?? String(e)}\n`);
    process.exit(1);
  });
}

/** Registers an externally started pid (e.g. nginx from test/helpers) for kill-on-exit. */
export function own(pid: number): void {
  hookExit();
  if (pid > 0) owned.add(pid);
}

/** Forgets a pid once it was stopped cleanly. */
export function disown(pid: number): void {
  owned.delete(pid);
}

/** `spawn` pinned to `cpu` with `taskset` (which execs, so the child's pid is the program's). */
export function spawnPinned(
  cpu: number | string | undefined,
  cmd: string,
  args: readonly string[],
  opts: SpawnOptions = {},
): ChildProcess {
  hookExit();
  const child =
    cpu === undefined ? spawn(cmd, args, opts) : spawn('taskset', ['-c', String(cpu), cmd, ...args], opts);
  if (child.pid !== undefined) {
    const pid = child.pid;
    owned.add(pid);
    child.once('exit', () => owned.delete(pid));
  }
  return child;
}

/** Stops a child: `signal`, then SIGKILL after `graceMs`. Resolves when it exited. */
export function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 3000,
): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces/parens: fields start after the last ')'.
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `pid` and all its descendants (nginx master + workers, a cluster primary + workers). */
export function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f) parent.set(Number(name), Number(f[1]));
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const [child, ppid] of parent) if (ppid === out[i]) out.push(child);
  }
  return out;
}

/** CPU time (user + system, all threads) of a process tree, in microseconds. */
export function cpuMicros(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    // After the comm field: [0]=state … [11]=utime [12]=stime (proc(5) fields 14 and 15).
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return (ticks * 1_000_000) / CLK_TCK;
}

/** Context switches since boot, all CPUs (`ctxt` of /proc/stat). */
export function contextSwitches(): number {
  const m = /^ctxt (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** Sum of peak resident set sizes (VmHWM) over a process tree, in KiB. */
export function peakRssKiB(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) kib += Number(m[1]);
    } catch {
      /* exited */
    }
  }
  return kib;
}

/** One core's counters from /proc/stat (jiffies). */
export interface CoreTimes {
  /** Everything but idle and iowait. */
  readonly busy: number;
  /** Time in tasks: user + nice + system, plus steal (the hypervisor ran someone else). */
  readonly task: number;
  /** Interrupt and softirq time (loopback packet processing shows up here). */
  readonly irq: number;
  readonly total: number;
}

/** Per-CPU times from /proc/stat, to tell how loaded each core was during a run. */
export function cpuJiffies(): Map<number, CoreTimes> {
  const out = new Map<number, CoreTimes>();
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const v = (m[2] as string).trim().split(/\s+/).map(Number);
    const at = (i: number) => v[i] ?? 0;
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out.set(Number(m[1]), {
      busy: total - at(3) - at(4),
      task: at(0) + at(1) + at(2) + at(7),
      irq: at(5) + at(6),
      total,
    });
  }
  return out;
}

/** Percentage of wall time `cpu` spent in `field` between two {@link cpuJiffies} samples. */
export function busyPercent(
  a: ReturnType<typeof cpuJiffies>,
  b: ReturnType<typeof cpuJiffies>,
  cpu: number,
  field: 'busy' | 'task' | 'irq' = 'busy',
): number {
  const x = a.get(cpu);
  const y = b.get(cpu);
  if (!x || !y || y.total === x.total) return 0;
  return (100 * (y[field] - x[field])) / (y.total - x.total);
}
