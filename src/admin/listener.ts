import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { RuntimeState } from '../config/compile.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Principal } from '../pipeline/principal.js';
import { ConfigError } from '../config/load.js';
import { GatehouseError } from '../errors/index.js';
import { runStages } from '../server/stages.js';
import { normalizeInto } from '../server/handler.js';
import { ADMIN_REQUEST, type AdminAccess } from './access.js';
import { ADMIN_SERVICE, ADMIN_URL } from './feature.js';
import { parseListen, type AdminConfig } from './schema.js';

/** What the admin listener needs from the gateway. */
export interface AdminListenerHost {
  readonly state: RuntimeState;
  readonly logger: Logger;
  readonly handler: {
    context(req: IncomingMessage, res: ServerResponse, secure: boolean): RequestContext;
    fail(ctx: RequestContext, e: unknown): void;
    handle(req: IncomingMessage, res: ServerResponse, secure: boolean): void;
  };
  readonly recorder: { record(ctx: RequestContext, status: number, bytes: number): void };
}

/** Serves one authorised admin request (API or console asset); resolves when answered. */
export type AdminDispatch = (ctx: RequestContext) => void | Promise<void>;

function loadTls(cfg: NonNullable<AdminConfig['tls']>, baseDir: string) {
  const read = (p: string, key: string): Buffer => {
    try {
      return readFileSync(resolve(baseDir, p));
    } catch (e) {
      throw new ConfigError([
        {
          path: `admin.tls.${key}`,
          message: `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          severity: 'error',
        },
      ]);
    }
  };
  return {
    cert: read(cfg.cert, 'cert'),
    key: read(cfg.key, 'key'),
    ...(cfg.client_ca === undefined
      ? {}
      : { ca: read(cfg.client_ca, 'client_ca'), requestCert: true, rejectUnauthorized: false }),
    minVersion: 'TLSv1.2' as const,
  };
}

/** The subject of a verified client certificate as `CN=…, O=…`, or undefined. */
function clientSubject(req: IncomingMessage): { dn: string; cn: string | undefined } | undefined {
  const s = req.socket as TLSSocket;
  if (s.encrypted !== true || !s.authorized) return undefined;
  const cert = s.getPeerCertificate();
  if (cert === undefined || cert.subject === undefined) return undefined;
  const dn = Object.entries(cert.subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join(', ');
  return { dn, cn: typeof cert.subject.CN === 'string' ? cert.subject.CN : undefined };
}

/**
 * The admin listener: its own HTTP(S) server (never the proxy's listeners). Every request is a
 * request of the synthetic route `admin`: the session authenticator and the admin policy (the
 * same stages as a route, compiled from `admin.access`) run first — no session: a browser is
 * sent through the OIDC login and back, an API call gets 401; not an admin: 403 page. With
 * `access.mtls_subjects`, a verified client certificate with a listed subject is an admin
 * without a session. The session endpoints (`/.gatehouse/…`: login, callback, logout) are the
 * gateway's own. Every request is audited like a proxied one (route `admin`) and left out of
 * the decision feed.
 */
export class AdminListener {
  #server: Server | undefined;
  readonly #sockets = new Set<Duplex>();
  url = '';

  constructor(
    private readonly host: AdminListenerHost,
    private readonly config: AdminConfig,
    private readonly baseDir: string,
    private readonly dispatch: AdminDispatch,
  ) {}

  async start(persistent: Map<string, unknown> | undefined): Promise<string> {
    const { address, port } = parseListen(this.config.listen) as { address: string; port: number };
    const secure = this.config.tls !== undefined;
    const server = this.config.tls
      ? createHttpsServer(loadTls(this.config.tls, this.baseDir))
      : createHttpServer();
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res, secure));
    server.on(secure ? 'secureConnection' : 'connection', (s: Duplex) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        fail(
          new ConfigError([
            {
              path: 'admin.listen',
              message: `cannot listen on ${this.config.listen}: ${e.code ?? e.message}`,
              severity: 'error',
            },
          ]),
        ),
      );
      server.listen(port, address, () => {
        server.removeAllListeners('error');
        ok();
      });
    });
    this.#server = server;
    const a = server.address();
    const bound = typeof a === 'object' && a ? a.port : port;
    const h = address.includes(':') ? `[${address}]` : address;
    this.url = `${secure ? 'https' : 'http'}://${h}:${bound}`;
    persistent?.set(ADMIN_URL, this.url);
    return this.url;
  }

  #handle(req: IncomingMessage, res: ServerResponse, secure: boolean): void {
    const ctx = this.host.handler.context(req, res, secure);
    ctx.extra[ADMIN_REQUEST] = true;
    try {
      normalizeInto(ctx, req.url ?? '/');
      // The session endpoints (login, callback, logout) are the gateway's; nothing else of it is
      // reachable here (decided on the normalised path: `/.gatehouse/../app` is `/app`).
      if (ctx.path.startsWith('/.gatehouse/')) return this.host.handler.handle(req, res, secure);
      const access = this.host.state.services.get(ADMIN_SERVICE) as AdminAccess | undefined;
      if (access === undefined) throw new GatehouseError('GH_ROUTE_NOT_FOUND', 'admin is not configured');
      const cert = access.mtlsSubjects.size > 0 ? clientSubject(req) : undefined;
      if (
        cert !== undefined &&
        (access.mtlsSubjects.has(cert.dn) || access.mtlsSubjects.has(`CN=${cert.cn}`))
      ) {
        ctx.route = access.route;
        ctx.principal = certPrincipal(cert.dn);
        ctx.reasons.push('admin.mtls');
        return this.#serve(ctx);
      }
      if (access.route === undefined)
        throw new GatehouseError(
          'GH_ACCESS_DENIED',
          'no client certificate with a subject of admin.access.mtls_subjects',
          {
            reasons: ['admin.mtls_required'],
          },
        );
      ctx.route = access.route;
      const outcome = runStages(ctx);
      if (outcome === true) return this.#finish(ctx);
      if (outcome === false) return this.#serve(ctx);
      outcome.then(
        (handled) => (handled ? this.#finish(ctx) : this.#serve(ctx)),
        (e: unknown) => this.host.handler.fail(ctx, e),
      );
    } catch (e) {
      this.host.handler.fail(ctx, e);
    }
  }

  #serve(ctx: RequestContext): void {
    try {
      const r = this.dispatch(ctx);
      if (r !== undefined)
        r.then(
          () => this.#finish(ctx),
          (e: unknown) => this.host.handler.fail(ctx, e),
        );
      else this.#finish(ctx);
    } catch (e) {
      this.host.handler.fail(ctx, e);
    }
  }

  /** Audits the request once its response is done (like an internal endpoint of the proxy). */
  #finish(ctx: RequestContext): void {
    const res = ctx.res;
    const done = () =>
      this.host.recorder.record(ctx, res.statusCode, Number(res.getHeader('content-length') ?? 0));
    if (res.writableFinished) done();
    else res.once('close', done);
  }

  async close(): Promise<void> {
    const s = this.#server;
    if (s === undefined) return;
    this.#server = undefined;
    await new Promise<void>((ok) => {
      s.close(() => ok());
      s.closeIdleConnections();
      setTimeout(() => {
        for (const sock of this.#sockets) sock.destroy();
      }, 1000).unref();
    });
  }
}

/** The principal of an admin signed in by client certificate. */
function certPrincipal(dn: string): Principal {
  return {
    kind: 'client',
    subject: dn,
    provider: 'mtls',
    method: 'mtls',
    groups: [],
    roles: [],
    scopes: [],
    claims: {},
  };
}
