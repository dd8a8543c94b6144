import { copyFile, readFile, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { earliestEnd, readCcache } from './ccache.js';
import { runTool, ToolError } from './tools.js';
import type { UserPrincipal } from './names.js';

/** What the ticket manager needs, fixed at config load. */
export interface TicketSettings {
  readonly servicePrincipal: string;
  /** Absolute path of the keytab. */
  readonly keytab: string;
  /** Absolute krb5.conf, or undefined for the system's. */
  readonly krb5Conf: string | undefined;
  readonly realm: string;
  readonly refreshBefore: number;
  readonly maxUsers: number;
  /** Absolute paths of kinit and kvno. */
  readonly kinit: string;
  readonly kvno: string;
  /** The `DIR:` collection directory (user caches `tkt_<user>@REALM`) and a private work directory. */
  readonly collection: string;
  readonly work: string;
  /** Longest run of one kinit/kvno. */
  readonly toolTimeout: number;
  /** The clock, epoch seconds (tests move it). */
  readonly now?: (() => number) | undefined;
}

interface Validity {
  start: number;
  end: number;
}

interface UserEntry extends Validity {
  /** Full server names (`HTTP/host@REALM`) the user's cache holds. */
  spns: Set<string>;
  flight: Promise<void> | undefined;
  /** SPNs the running flight fetches. */
  flying: Set<string>;
}

const wallClock = () => Date.now() / 1000;
/** Seconds a refusal of the KDC for a user (unknown, not delegable) is answered without asking again. */
const REFUSAL_TTL = 10;
/** kinit/kvno processes at most running at once (a cold start of many users queues). */
const MAX_TOOL_RUNS = 8;

/**
 * Tickets for constrained delegation: the gateway's own forwardable TGT from its keytab (`kinit
 * -f -k -t` into a private cache, renewed before expiry and again when the keytab file changes)
 * and, per user, S4U2Self + S4U2Proxy service tickets (`kvno -U user -P SPN…`) written to the
 * user's cache in the `DIR:` collection GSS-API reads. One kvno at a time per user (single
 * flight), at most `maxUsers` users (least recently used dropped), refreshed before expiry in the
 * background while the old ticket still serves — so a KDC outage only hurts users without a
 * valid ticket. Every new cache is written aside and renamed into place (readers never see half a
 * file).
 */
export class TicketManager {
  private tgt: Validity | undefined;
  private tgtFlight: Promise<void> | undefined;
  private readonly users = new Map<string, UserEntry>();
  /** Recent refusals by `user spn`, answered again without a kvno until they expire. */
  private readonly refused = new Map<string, { until: number; err: unknown }>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly gwCache: string;
  private readonly env: Readonly<Record<string, string>>;
  private closed = false;
  private readonly now: () => number;
  /** Tool runs so far (tests, metrics). */
  readonly runs = { kinit: 0, kvno: 0 };

  constructor(
    private readonly s: TicketSettings,
    private readonly log: Logger,
    private readonly onEvict: (user: string) => void = () => undefined,
  ) {
    this.gwCache = join(s.work, 'gateway.ccache');
    this.now = s.now ?? wallClock;
    this.env = s.krb5Conf === undefined ? {} : { KRB5_CONFIG: s.krb5Conf };
  }

  /** The cache file of `user` in the collection. */
  cacheFile(user: UserPrincipal): string {
    return join(this.s.collection, `tkt_${user.name}`);
  }

  /** Seconds before its end a ticket is replaced: `refresh_before`, at most `share` of its lifetime. */
  private margin(v: Validity, share = 0.25): number {
    return Math.min(this.s.refreshBefore / 1000, (v.end - v.start) * share);
  }

  /**
   * Makes sure `user` has a valid ticket for `spn` (`HTTP/host@REALM`). Returns undefined when
   * one is ready now (a refresh may start in the background), else a promise that settles when
   * one is (rejecting with a {@link ToolError}).
   */
  ensure(user: UserPrincipal, spn: string): Promise<void> | undefined {
    const e = this.users.get(user.name);
    const now = this.now();
    if (e && e.spns.has(spn) && now < e.end - 5) {
      this.users.delete(user.name);
      this.users.set(user.name, e);
      if (now >= e.end - this.margin(e) && e.flight === undefined)
        this.fetch(user, e, spn).catch((err: Error) =>
          this.log.warn(
            { user: user.name, err: err.message },
            'kerberos: ticket refresh failed; the current ticket serves until it expires',
          ),
        );
      return undefined;
    }
    const refusal = this.refused.get(`${user.name} ${spn}`);
    if (refusal && now < refusal.until) return Promise.reject(refusal.err);
    return this.fetch(user, e, spn);
  }

  private fetch(user: UserPrincipal, e: UserEntry | undefined, spn: string): Promise<void> {
    if (e?.flight) {
      if (e.flying.has(spn)) return e.flight;
      return e.flight.catch(() => undefined).then(() => this.ensure(user, spn));
    }
    const entry: UserEntry = e ?? { start: 0, end: 0, spns: new Set(), flight: undefined, flying: new Set() };
    if (!e) this.remember(user.name, entry);
    const spns = new Set([...entry.spns, spn]);
    entry.flying = spns;
    entry.flight = this.kvno(user, [...spns]).then(
      (v) => {
        entry.flight = undefined;
        entry.spns = spns;
        entry.start = v.start;
        entry.end = v.end;
      },
      (err: unknown) => {
        entry.flight = undefined;
        if (entry.spns.size === 0) this.users.delete(user.name);
        if (err instanceof ToolError && (err.kind === 'unknown_user' || err.kind === 'delegation_denied')) {
          this.refused.set(`${user.name} ${spn}`, { until: this.now() + REFUSAL_TTL, err });
          if (this.refused.size > this.s.maxUsers)
            this.refused.delete(this.refused.keys().next().value as string);
        }
        throw err;
      },
    );
    return entry.flight;
  }

  private remember(name: string, entry: UserEntry): void {
    this.users.set(name, entry);
    if (this.users.size <= this.s.maxUsers) return;
    const [oldest] = this.users.keys();
    if (oldest === undefined || oldest === name) return;
    this.users.delete(oldest);
    void unlink(join(this.s.collection, `tkt_${oldest}`)).catch(() => undefined);
    this.onEvict(oldest);
  }

  private async kvno(user: UserPrincipal, spns: string[]): Promise<Validity> {
    await this.gatewayTgt();
    const id = randomBytes(6).toString('hex');
    const gw = join(this.s.work, `gw-${id}`);
    const out = join(this.s.work, `out-${id}`);
    // kvno also stores the proxied ticket in the cache it reads: give it a copy, so the
    // gateway's own cache does not grow with every user.
    await copyFile(this.gwCache, gw);
    try {
      const args = ['-c', `FILE:${gw}`, '-U', user.account, '-P', '--out-cache', `FILE:${out}`];
      args.push(...spns.map((s) => s.slice(0, s.lastIndexOf('@'))));
      this.runs.kvno++;
      await this.slot(() => runTool(this.s.kvno, args, this.env, this.s.toolTimeout));
      const v = await this.validity(out, spns);
      if (this.closed) throw new ToolError('failed', 'kerberos: shut down');
      await rename(out, this.cacheFile(user));
      this.log.debug({ user: user.name, spns, end: v.end }, 'kerberos: service ticket obtained');
      return v;
    } finally {
      void unlink(gw).catch(() => undefined);
      void unlink(out).catch(() => undefined);
    }
  }

  private async validity(file: string, servers: string[]): Promise<Validity> {
    const tickets = readCcache(await readFile(file));
    const end = earliestEnd(tickets, servers);
    if (end === undefined)
      throw new ToolError('failed', `no ticket for ${servers.join(', ')} in the new cache`);
    const start = Math.min(...tickets.filter((t) => servers.includes(t.server)).map((t) => t.start));
    return { start, end };
  }

  /** The gateway's TGT: valid now (a renewal may start in the background) or obtained first. */
  gatewayTgt(): Promise<void> {
    const t = this.tgt;
    const now = this.now();
    if (t && now < t.end - 5) {
      // Renewed early: user tickets cannot outlive the TGT they come from, and a KDC may refuse
      // S4U with a TGT close to its end (Samba: 2 minutes).
      if (now >= t.end - this.margin(t, 0.75) && this.tgtFlight === undefined)
        this.kinit().catch((err: Error) =>
          this.log.warn(
            { err: err.message },
            'kerberos: gateway TGT renewal failed; the current one serves until it expires',
          ),
        );
      return Promise.resolve();
    }
    return this.tgtFlight ?? this.kinit();
  }

  /** Gets a new TGT from the keytab now (start, keytab change). */
  kinit(): Promise<void> {
    if (this.tgtFlight) return this.tgtFlight;
    const run = async () => {
      const next = join(this.s.work, `gateway-${randomBytes(6).toString('hex')}`);
      try {
        const { servicePrincipal: sp, keytab } = this.s;
        this.runs.kinit++;
        const args = ['-f', '-k', '-t', keytab, '-c', `FILE:${next}`, sp];
        await this.slot(() => runTool(this.s.kinit, args, this.env, this.s.toolTimeout));
        const v = await this.validity(next, [`krbtgt/${this.s.realm}@${this.s.realm}`]);
        await rename(next, this.gwCache);
        this.tgt = v;
        this.log.info(
          { principal: sp, end: new Date(v.end * 1000).toISOString() },
          'kerberos: gateway TGT obtained',
        );
      } finally {
        void unlink(next).catch(() => undefined);
      }
    };
    this.tgtFlight = run().finally(() => {
      this.tgtFlight = undefined;
    });
    return this.tgtFlight;
  }

  /** Runs `fn` when fewer than {@link MAX_TOOL_RUNS} tools run; a finishing run hands its slot on. */
  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running < MAX_TOOL_RUNS) this.running++;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Users with a ticket entry (for tests and metrics). */
  get size(): number {
    return this.users.size;
  }

  /**
   * Stops writing caches. The user caches stay: the collection is process-wide and a reloaded
   * config's manager may use them; the directory goes when the process exits.
   */
  close(): Promise<void> {
    this.closed = true;
    this.users.clear();
    return Promise.resolve();
  }
}
