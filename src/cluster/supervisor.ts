import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { ReloadResult } from '../control/reload.js';
import { mergeExpositions } from '../metrics/aggregate.js';
import { isClusterMessage, SLOT_ENV, type ClusterMessage } from './messages.js';

/** Crashes within {@link CRASH_WINDOW_MS} that make a crash loop. */
export const CRASH_LIMIT = 5;
export const CRASH_WINDOW_MS = 60_000;
/** Respawn delay: 250 ms doubling per recent crash, at most 10 s (±20 % jitter). */
const RESPAWN_BASE_MS = 250;
const RESPAWN_MAX_MS = 10_000;
/** Extra time given to workers beyond `shutdown_timeout` before they are killed. */
export const STOP_MARGIN_MS = 5000;
const ANSWER_TIMEOUT_MS = 120_000;
const SNAPSHOT_TIMEOUT_MS = 5000;

/** How the cluster ended, decided by the supervisor. */
export type ClusterEnd =
  | { readonly kind: 'stopped'; readonly forced: boolean }
  | { readonly kind: 'start-failed'; readonly error: string }
  | { readonly kind: 'crash-loop'; readonly crashes: number };

/**
 * Forks and watches `count` workers, one per slot. A worker that dies is respawned in its slot
 * after an exponential backoff; {@link CRASH_LIMIT} deaths within {@link CRASH_WINDOW_MS} end the
 * cluster as a crash loop instead of spinning. A worker that fails its first start (port in use,
 * unreadable certificate) ends the cluster at once. `stop()` drains every worker (SIGTERM) and
 * kills those still running after `shutdown_timeout` + {@link STOP_MARGIN_MS}.
 */
export class Supervisor {
  readonly #slots: (Worker | undefined)[];
  readonly #everReady = new Set<number>();
  /** Workers that reported ready and have not exited: the ones asked for reloads and metrics. */
  readonly #serving = new Set<Worker>();
  #crashes: number[] = [];
  #stopping = false;
  #seq = 0;
  readonly #waiters = new Map<number, (m: ClusterMessage, slot: number) => void>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #end: ((end: ClusterEnd) => void) | undefined;
  #forced = false;
  #failure: ClusterEnd | undefined;
  /** Resolves once every worker is gone, with the reason. */
  readonly done: Promise<ClusterEnd>;

  constructor(
    count: number,
    private readonly logger: Logger,
    private readonly shutdownTimeoutMs: number,
  ) {
    this.#slots = new Array<Worker | undefined>(count).fill(undefined);
    this.done = new Promise((resolve) => (this.#end = resolve));
  }

  /** Forks every worker. */
  start(): void {
    for (let slot = 0; slot < this.#slots.length; slot++) this.#fork(slot);
  }

  /** Worker process ids by slot (undefined while a slot waits for its respawn). */
  get pids(): (number | undefined)[] {
    return this.#slots.map((w) => w?.process.pid);
  }

  #fork(slot: number): void {
    const w = cluster.fork({ [SLOT_ENV]: String(slot) });
    this.#slots[slot] = w;
    w.on('message', (m: unknown) => this.#message(slot, w, m));
    w.on('exit', (code, signal) => this.#exited(slot, w, code, signal));
  }

  #message(slot: number, w: Worker, m: unknown): void {
    if (!isClusterMessage(m)) return;
    switch (m.gh) {
      case 'ready':
        this.#everReady.add(slot);
        this.#serving.add(w);
        this.logger.info({ slot, pid: w.process.pid }, 'worker ready');
        break;
      case 'start-failed':
        if (!this.#everReady.has(slot)) this.#finish({ kind: 'start-failed', error: m.error });
        break;
      case 'metrics':
        void this.metrics().then((text) => w.send({ gh: 'metrics-result', id: m.id, text }));
        break;
      case 'reload-result':
      case 'snapshot-result':
        this.#waiters.get(m.id)?.(m, slot);
        break;
      default:
        break;
    }
  }

  #exited(slot: number, w: Worker, code: number | null, signal: string | null): void {
    if (this.#slots[slot] === w) this.#slots[slot] = undefined;
    this.#serving.delete(w);
    if (this.#stopping) {
      if (this.#slots.every((s) => s === undefined)) this.#finish();
      return;
    }
    if (!this.#everReady.has(slot)) {
      this.#finish({
        kind: 'start-failed',
        error: `worker ${slot} exited (${signal ?? `code ${code}`}) before it was ready`,
      });
      return;
    }
    const now = Date.now();
    this.#crashes = [...this.#crashes.filter((t) => now - t < CRASH_WINDOW_MS), now];
    this.logger.error(
      { slot, pid: w.process.pid, code, signal, recent_crashes: this.#crashes.length },
      'worker died',
    );
    if (this.#crashes.length >= CRASH_LIMIT) {
      this.logger.fatal(
        { error: 'GH_CLUSTER_CRASH_LOOP', crashes: this.#crashes.length, window_ms: CRASH_WINDOW_MS },
        `workers crashed ${this.#crashes.length} times within ${CRASH_WINDOW_MS / 1000} s: stopping instead of respawning`,
      );
      this.#finish({ kind: 'crash-loop', crashes: this.#crashes.length });
      return;
    }
    const base = Math.min(RESPAWN_MAX_MS, RESPAWN_BASE_MS * 2 ** (this.#crashes.length - 1));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.#stopping) this.#fork(slot);
    }, delay);
    this.#timers.add(t);
    this.logger.info({ slot, in_ms: delay }, 'respawning worker');
  }

  /** Ends the cluster for `failure` (stopping the other workers first), or as a plain stop. */
  #finish(failure?: ClusterEnd): void {
    if (failure) {
      this.#failure ??= failure;
      void this.stop();
      return;
    }
    const resolve = this.#end;
    this.#end = undefined;
    resolve?.(this.#failure ?? { kind: 'stopped', forced: this.#forced });
  }

  /** Passes `signal` to every live worker (SIGUSR1: reopen audit files after a rotation). */
  signal(signal: NodeJS.Signals): void {
    if (this.#stopping) return;
    for (const w of this.#slots) w?.process.kill(signal);
  }

  /** Drains every worker: SIGTERM now, SIGKILL after `shutdown_timeout` + margin. */
  stop(): Promise<ClusterEnd> {
    if (!this.#stopping) {
      this.#stopping = true;
      for (const t of this.#timers) clearTimeout(t);
      this.#timers.clear();
      for (const w of this.#slots) w?.process.kill('SIGTERM');
      if (this.#slots.every((s) => s === undefined)) this.#finish();
      const kill = setTimeout(() => {
        for (const w of this.#slots) {
          if (!w) continue;
          this.#forced = true;
          this.logger.error(
            { pid: w.process.pid },
            'worker still running after the shutdown deadline: killing it',
          );
          w.process.kill('SIGKILL');
        }
      }, this.shutdownTimeoutMs + STOP_MARGIN_MS);
      kill.unref();
    }
    return this.done;
  }

  /** Sends `msg(id)` to every live worker and collects the answers (by slot) until all answered or `ms`. */
  #ask(make: (id: number) => ClusterMessage, ms: number): Promise<Map<number, ClusterMessage>> {
    const id = ++this.#seq;
    const targets = this.#slots.flatMap((w, slot) =>
      w && this.#serving.has(w) && w.isConnected() ? [{ w, slot }] : [],
    );
    const answers = new Map<number, ClusterMessage>();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.#waiters.delete(id);
        resolve(answers);
      };
      const timer = setTimeout(finish, ms);
      this.#waiters.set(id, (m, slot) => {
        answers.set(slot, m);
        if (answers.size === targets.length) finish();
      });
      if (targets.length === 0) return finish();
      for (const { w } of targets) w.send(make(id));
    });
  }

  /** Tells every worker to reload; one result per live worker (a silent worker counts as failed). */
  async reload(): Promise<ReloadResult> {
    const expected = this.#slots.flatMap((w, slot) => (w && this.#serving.has(w) ? [slot] : []));
    const answers = await this.#ask((id) => ({ gh: 'reload', id }), ANSWER_TIMEOUT_MS);
    const errors: string[] = [];
    for (const slot of expected) {
      const m = answers.get(slot);
      if (!m || m.gh !== 'reload-result') errors.push(`worker ${slot}: no answer`);
      else if (!m.result.ok) errors.push(...m.result.errors.map((e) => `worker ${slot}: ${e}`));
    }
    return errors.length
      ? { ok: false, errors }
      : { ok: true, message: `configuration reloaded on ${expected.length} workers` };
  }

  /** The cluster's metrics: every live worker's exposition, merged (see `mergeExpositions`). */
  async metrics(): Promise<string> {
    const answers = await this.#ask((id) => ({ gh: 'snapshot', id }), SNAPSHOT_TIMEOUT_MS);
    const parts = [...answers].flatMap(([slot, m]) =>
      m.gh === 'snapshot-result' ? [{ worker: String(slot), text: m.text }] : [],
    );
    return mergeExpositions(parts.sort((a, b) => Number(a.worker) - Number(b.worker)));
  }
}
