import type { RequestContext } from '../pipeline/context.js';
import type { RuntimeState } from '../config/compile.js';
import { GatehouseError } from '../errors/index.js';
import { displayUser } from '../authz/public-reason.js';
import type { AdminAccess } from './access.js';
import { ADMIN_SERVICE } from './feature.js';
import type { DecisionRing } from './ring.js';
import type { LiveStream } from './stream.js';
import { Analytics } from './analytics.js';
import { decisionJson, matches, parseFilter, parseLimit } from './decisions.js';
import { explainRequest } from './explain.js';
import { checkCsrf, sendAdminJson } from './http.js';
import { listSessions, revokeSession, revokeUser } from './sessions.js';

/** What the API handlers read: the console's stores and the gateway's state. */
export interface AdminApiHost {
  readonly state: RuntimeState;
  readonly baseDir: string;
  readonly instance: string;
  readonly version: string;
  readonly started: Date;
  readonly ring: DecisionRing;
  readonly stream: LiveStream;
  readonly analytics: Analytics;
  /** `GET /api/health`. */
  health(): Promise<unknown>;
  /** `POST /api/doctor`. */
  doctor(): Promise<unknown>;
  /** `POST /api/keys/assertion/rotate`: the new key id. */
  rotateAssertionKey(): Promise<string>;
  /** `GET /api/api-keys`. */
  apiKeys(): unknown[];
  /** `GET /api/instances`. */
  instances(): Promise<unknown[]>;
  /** Audits an admin action (who, what, on what). */
  auditAction(ctx: RequestContext, action: string, target: string, extra?: Record<string, unknown>): void;
}

type Handler = (
  ctx: RequestContext,
  host: AdminApiHost,
  q: URLSearchParams,
  arg: string,
) => void | Promise<void>;

interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Exact path, or a prefix ending in `/` whose rest is one segment (`arg`). */
  readonly path: string;
  readonly handle: Handler;
}

const ONE_SEGMENT = /^[A-Za-z0-9._:@+=-]{1,800}$/;

function sessionsOf(host: AdminApiHost) {
  return (host.state.services.get(ADMIN_SERVICE) as AdminAccess | undefined)?.sessions;
}

/**
 * The subject named by `user=`: the subject itself, or an email seen in the recent decisions
 * (sessions are indexed by subject).
 */
function requiredUser(q: URLSearchParams, host: AdminApiHost): string {
  const u = q.get('user');
  if (u === null || u === '')
    throw new GatehouseError('GH_ADMIN_BAD_REQUEST', 'user= is required (the subject or an email)');
  if (!u.includes('@')) return u;
  const seen = host.ring.recent(1, (e) => e.principal?.email?.toLowerCase() === u.toLowerCase())[0];
  return seen?.principal?.subject ?? u;
}

const ROUTES: readonly ApiRoute[] = [
  {
    method: 'GET',
    path: '/api/whoami',
    handle: (ctx, host) =>
      sendAdminJson(ctx, 200, {
        user: ctx.principal === undefined ? null : displayUser(ctx.principal),
        subject: ctx.principal?.subject ?? null,
        auth_method: ctx.principal?.method ?? null,
        instance: host.instance,
        version: host.version,
      }),
  },
  {
    method: 'GET',
    path: '/api/decisions',
    handle: (ctx, host, q) => {
      const f = parseFilter(q);
      const items = host.ring.recent(parseLimit(q, 100), (e) => matches(f, e));
      sendAdminJson(ctx, 200, { items: items.map((e) => decisionJson(e, host.instance)) });
    },
  },
  {
    method: 'GET',
    path: '/api/decisions/stream',
    handle: (ctx, host, q) => {
      const f = parseFilter(q);
      const backlog = q.has('backlog')
        ? host.ring
            .recent(parseLimit(new URLSearchParams({ limit: q.get('backlog') ?? '' }), 50), (e) =>
              matches(f, e),
            )
            .reverse()
        : [];
      host.stream.open(ctx.res, f, backlog);
      return new Promise<void>((done) => ctx.res.once('close', done));
    },
  },
  {
    method: 'GET',
    path: '/api/explain/',
    handle: async (ctx, host, _q, id) =>
      sendAdminJson(ctx, 200, await explainRequest(id, host.state, host.baseDir, host.ring.get(id))),
  },
  {
    method: 'GET',
    path: '/api/analytics',
    handle: (ctx, host, q) => {
      const w = host.analytics.parseWindow(q.get('window'));
      const route = q.get('route') || undefined;
      const who = q.get('principal');
      if (who === null || who === '') return sendAdminJson(ctx, 200, host.analytics.query(w, route));
      // One principal: computed from the decisions still in memory (no per-principal series are kept).
      const one = new Analytics(host.analytics.windowMs);
      const f = parseFilter(new URLSearchParams({ user: who }));
      for (const e of host.ring.recent(host.ring.size, (x) => matches(f, x)).reverse()) one.add(e);
      sendAdminJson(ctx, 200, { ...one.query(w, route), source: 'recent decisions' });
    },
  },
  {
    method: 'GET',
    path: '/api/health',
    handle: async (ctx, host) => sendAdminJson(ctx, 200, await host.health()),
  },
  {
    method: 'POST',
    path: '/api/doctor',
    handle: async (ctx, host) => {
      host.auditAction(ctx, 'doctor.run', 'config');
      sendAdminJson(ctx, 200, await host.doctor());
    },
  },
  {
    method: 'GET',
    path: '/api/sessions',
    handle: async (ctx, host, q) =>
      sendAdminJson(ctx, 200, { items: await listSessions(sessionsOf(host), requiredUser(q, host)) }),
  },
  {
    method: 'DELETE',
    path: '/api/sessions',
    handle: async (ctx, host, q) => {
      const user = requiredUser(q, host);
      const n = await revokeUser(sessionsOf(host), user);
      host.auditAction(ctx, 'session.revoke_all', `user:${user}`, { sessions: n });
      sendAdminJson(ctx, 200, { revoked: n });
    },
  },
  {
    method: 'DELETE',
    path: '/api/sessions/',
    handle: async (ctx, host, _q, handle) => {
      const user = await revokeSession(sessionsOf(host), handle);
      host.auditAction(ctx, 'session.revoke', `user:${user}`, { session: handle });
      sendAdminJson(ctx, 200, { revoked: 1 });
    },
  },
  {
    method: 'POST',
    path: '/api/keys/assertion/rotate',
    handle: async (ctx, host) => {
      const kid = await host.rotateAssertionKey();
      host.auditAction(ctx, 'assertion_key.rotate', `kid:${kid}`);
      sendAdminJson(ctx, 200, { kid });
    },
  },
  {
    method: 'GET',
    path: '/api/api-keys',
    handle: (ctx, host) => sendAdminJson(ctx, 200, { items: host.apiKeys() }),
  },
  {
    method: 'GET',
    path: '/api/instances',
    handle: async (ctx, host) => sendAdminJson(ctx, 200, { items: await host.instances() }),
  },
];

/**
 * Answers one admin API call (the caller already passed access control). Mutations (POST,
 * DELETE) pass the CSRF check first; unknown paths get GH_ADMIN_NOT_FOUND, a known path with
 * another method GH_METHOD_NOT_ALLOWED.
 */
export function handleApi(ctx: RequestContext, host: AdminApiHost): void | Promise<void> {
  const path = ctx.path;
  const method = ctx.method === 'HEAD' ? 'GET' : ctx.method;
  let known = false;
  for (const r of ROUTES) {
    let arg = '';
    if (r.path.endsWith('/')) {
      if (!path.startsWith(r.path)) continue;
      arg = path.slice(r.path.length);
      if (!ONE_SEGMENT.test(arg)) continue;
    } else if (path !== r.path) continue;
    known = true;
    if (r.method !== method) continue;
    if (method !== 'GET') checkCsrf(ctx);
    return r.handle(ctx, host, new URLSearchParams(ctx.query.slice(1)), arg);
  }
  if (known) throw new GatehouseError('GH_METHOD_NOT_ALLOWED', `${ctx.method} ${path}`);
  throw new GatehouseError('GH_ADMIN_NOT_FOUND', `no admin API ${path}`);
}
