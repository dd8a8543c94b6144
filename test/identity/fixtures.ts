import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino } from 'pino';
import { configSchema, type GatehouseConfig } from '../../src/config/schema.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { CompileContext, ConfigIssue } from '../../src/pipeline/feature.js';
import { withMemo, type Principal } from '../../src/pipeline/principal.js';
import { emptyStages, type RouteStages } from '../../src/pipeline/route.js';
import type { InternalEndpoint } from '../../src/pipeline/stages.js';
import { identityFeature } from '../../src/identity/feature.js';

/** An Entra-ID-like user principal with its memo slot, as the token mapper makes them; override any field. */
export function userPrincipal(over: Partial<Principal> = {}): Principal {
  return withMemo({
    kind: 'user',
    subject: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
    issuer: 'https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0',
    provider: 'entra',
    method: 'jwt',
    name: 'Alice Example',
    email: 'alice@example.com',
    groups: ['g-admins', 'g-finance', 'g-staff'],
    roles: ['Reader'],
    scopes: ['api.read'],
    clientId: 'c0ffee00-0000-0000-0000-000000000001',
    tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    credentialId: 'jti-123',
    claims: {
      oid: '00000000-0000-0000-66f3-3332eca7ea81',
      sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
      tid: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      preferred_username: 'alice@example.com',
      name: 'Alice Example',
      email: 'alice@example.com',
      roles: ['Reader'],
      groups: ['g-admins', 'g-finance', 'g-staff'],
      scp: 'api.read',
      ver: '2.0',
      dept: { name: 'Finance', code: 42 },
    },
    ...over,
  });
}

/** A minimal request context for mutators and endpoints (no sockets). */
export function fakeCtx(
  over: Partial<RequestContext> & { principal?: Principal | undefined } = {},
): RequestContext & {
  written: { status?: number; headers?: Record<string, unknown>; body?: string };
} {
  const written: { status?: number; headers?: Record<string, unknown>; body?: string } = {};
  const res = {
    writeHead(status: number, headers: Record<string, unknown>) {
      written.status = status;
      written.headers = headers;
      return res;
    },
    end(body?: string) {
      written.body = body;
    },
  } as unknown as ServerResponse;
  return {
    id: 'req-1',
    req: { headers: {}, socket: {} } as unknown as IncomingMessage,
    res,
    start: performance.now(),
    peer: '127.0.0.1',
    clientIp: '127.0.0.1',
    peerTrusted: false,
    scheme: 'https',
    host: 'gw.example.com',
    hostHeader: 'gw.example.com',
    method: 'GET',
    path: '/',
    query: '',
    route: undefined,
    principal: undefined,
    inject: new Map(),
    drop: new Set(),
    reasons: [],
    rule: undefined,
    responseHeaders: new Map(),
    upstreamStatus: undefined,
    upstreamDispatch: undefined,
    upstreamStart: undefined,
    upstreamEnd: undefined,
    extra: {},
    ...over,
    written,
  };
}

/** Result of compiling a config through the identity feature only. */
export interface Compiled {
  readonly issues: ConfigIssue[];
  readonly endpoints: InternalEndpoint[];
  readonly stages: RouteStages[];
  readonly cctx: CompileContext<GatehouseConfig>;
  readonly config: ReturnType<typeof configSchema.parse>;
  readonly onStart: (() => Promise<void>)[];
  readonly onClose: (() => Promise<void> | void)[];
}

/** Parses `doc` with the real config schema and runs identityFeature over it. */
export function compileIdentity(doc: object, opts: { baseDir?: string; dryRun?: boolean } = {}): Compiled {
  const config = configSchema.parse(doc);
  const issues: ConfigIssue[] = [];
  const endpoints: InternalEndpoint[] = [];
  const onStart: (() => Promise<void>)[] = [];
  const onClose: (() => Promise<void> | void)[] = [];
  const cctx: CompileContext<GatehouseConfig> = {
    config,
    logger: pino({ level: 'silent' }),
    baseDir: opts.baseDir ?? process.cwd(),
    issue: (path, message, severity) => issues.push({ path, message, severity: severity ?? 'error' }),
    services: new Map(),
    onStart: (fn) => onStart.push(fn),
    onClose: (fn) => onClose.push(fn),
    registerEndpoint: (ep) => endpoints.push(ep),
    dryRun: opts.dryRun ?? false,
  };
  identityFeature.compileGlobal?.(cctx);
  const stages = config.routes.map((r, i) => {
    const s = emptyStages();
    identityFeature.compileRoute?.(r, `routes[${i}]`, cctx, s);
    return s;
  });
  return { issues, endpoints, stages, cctx, config, onStart, onClose };
}

/** Runs every mutator of a route's stages on `ctx`. */
export async function runMutators(stages: RouteStages, ctx: RequestContext): Promise<void> {
  for (const m of stages.mutators) await m.mutate(ctx);
}
