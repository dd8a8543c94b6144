import type { Logger } from 'pino';
import {
  H1Pool,
  type H1Exchange,
  type H1Handler,
  type H1PoolOptions,
  type H1Request,
} from '../upstream/h1/client.js';
import type { UpstreamDelegate } from '../upstream/pool.js';
import type { RequestContext } from '../pipeline/context.js';
import { GatehouseError } from '../errors/index.js';
import type { UserMapper } from './mapping.js';
import type { UserPrincipal } from './names.js';
import type { TicketManager } from './tickets.js';
import { failureError, ToolError } from './tools.js';
import { negotiateToken, NegotiateHandler, type Gss } from './negotiate.js';

/** A request still waiting for its user's ticket. */
class Pending implements H1Exchange {
  inner: H1Exchange | undefined;
  aborted = false;
  abort(): void {
    this.aborted = true;
    this.inner?.abort();
  }
  resume(): void {
    this.inner?.resume();
  }
}

/** Everything one Kerberos upstream needs, built at config load. */
export interface DelegateOptions {
  readonly upstream: string;
  readonly map: UserMapper;
  readonly tickets: TicketManager;
  readonly gss: Gss;
  /** `HTTP/host@REALM`, as in the caches. */
  readonly spn: string;
  /** `HTTP@host`, the GSS-API service name. */
  readonly service: string;
  /** The upstream's pool options; every user's pool copies them. */
  readonly pool: H1PoolOptions;
  readonly connectionsPerUser: number;
  readonly maxUsers: number;
  readonly logger: Logger;
}

function withoutAuthorization(headers: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.length === 13 && name.toLowerCase() === 'authorization') continue;
    out.push(name, headers[i + 1] as string);
  }
  return out;
}

/**
 * Sends the requests of a Kerberos upstream: maps the signed-in principal to an AD account,
 * makes sure a delegated service ticket is ready (single flight per user), strips any client
 * `Authorization`, and sends the request over a connection of that user's own pool. Every new
 * connection is authenticated once with a fresh SPNEGO token and stays pinned to its user: a
 * pool never serves another principal. At most `maxUsers` pools are kept (least recently used
 * closed gracefully).
 */
export class KerberosDelegate implements UpstreamDelegate {
  private readonly pools = new Map<string, H1Pool>();

  constructor(private readonly o: DelegateOptions) {}

  request(ctx: RequestContext, req: H1Request, handler: H1Handler): H1Exchange {
    const o = this.o;
    const m = o.map(ctx.principal);
    if (!m.ok)
      return this.refuse(
        handler,
        new GatehouseError('GH_KERBEROS_UNMAPPED', `upstream ${o.upstream}: ${m.reason}`),
      );
    const out: H1Request = { ...req, headers: withoutAuthorization(req.headers) };
    const wait = o.tickets.ensure(m.user, o.spn);
    if (wait === undefined) return this.send(m.user, out, handler);
    const pending = new Pending();
    wait.then(
      () => {
        if (!pending.aborted) pending.inner = this.send(m.user, out, handler);
      },
      (e: unknown) => {
        if (pending.aborted) return;
        const detail = `upstream ${o.upstream}, user ${m.user.name}: ${(e as Error).message}`;
        o.logger.warn(
          { upstream: o.upstream, user: m.user.name, err: (e as Error).message },
          'kerberos: no ticket',
        );
        handler.onError(failureError(e instanceof ToolError ? e.kind : 'failed', detail));
      },
    );
    return pending;
  }

  private refuse(handler: H1Handler, err: GatehouseError): H1Exchange {
    const p = new Pending();
    process.nextTick(() => {
      if (!p.aborted) handler.onError(err);
    });
    return p;
  }

  private send(user: UserPrincipal, req: H1Request, handler: H1Handler): H1Exchange {
    const h = new NegotiateHandler(handler, this.o.upstream);
    h.exchange = this.poolOf(user).request(req, h);
    return h;
  }

  private poolOf(user: UserPrincipal): H1Pool {
    const name = user.name;
    let pool = this.pools.get(name);
    if (pool) {
      this.pools.delete(name);
      this.pools.set(name, pool);
      return pool;
    }
    const o = this.o;
    pool = new H1Pool({
      ...o.pool,
      maxConnections: o.connectionsPerUser,
      authenticate: async (_ex, handler) => {
        try {
          const { client, token } = await negotiateToken(o.gss, o.service, name);
          (handler as NegotiateHandler).expectMutual(client);
          return { headers: ['Authorization', `Negotiate ${token}`], handler };
        } catch (e) {
          throw new GatehouseError(
            'GH_KERBEROS_TICKET_FAILED',
            `upstream ${o.upstream}, user ${name}: ${(e as Error).message}`,
          );
        }
      },
    });
    this.pools.set(name, pool);
    if (this.pools.size > o.maxUsers) {
      const [oldest, old] = this.pools.entries().next().value as [string, H1Pool];
      this.pools.delete(oldest);
      void old.close();
    }
    return pool;
  }

  /** Open upstream connections over all users (tests, metrics). */
  get connections(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.size;
    return n;
  }

  close(): Promise<void> {
    return Promise.all([...this.pools.values()].map((p) => p.close())).then(() => undefined);
  }

  destroy(): Promise<void> {
    return Promise.all([...this.pools.values()].map((p) => p.destroy())).then(() => undefined);
  }
}
