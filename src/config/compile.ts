import type { Logger } from 'pino';
import type { GatehouseConfig, RouteConfig } from './schema.js';
import type { CompileContext, ConfigIssue } from '../pipeline/feature.js';
import { emptyStages, type CompiledRoute } from '../pipeline/route.js';
import type { Authorizer, InternalEndpoint } from '../pipeline/stages.js';
import { features } from './features.js';
import { Router, routeHostProblem, routePathProblem } from '../routing/router.js';
import { createUpstream, type UpstreamHandle } from '../upstream/pool.js';
import type { HealthListener } from '../upstream/farm/health.js';
import { CidrSet, checkCidr } from '../util/ip.js';
import { normalizeHeaderName } from '../identity/strip.js';
import { ownCookies } from '../guard/cookies.js';
import { ConfigError, type ConfigProblem } from './load.js';
import { checkSharedState } from '../cluster/shared-state.js';
import { PAGES_SERVICE, loadPages } from '../pages/index.js';
import { kerberosAssembly } from '../kerberos/assemble.js';
import type { RequestTracer } from '../pipeline/contracts.js';
import { TRACER_SERVICE } from '../tracing/feature.js';

/**
 * Reserved endpoints, looked up by exact path first, then by segment prefix. `outside` lists the
 * exact paths outside `/.gatehouse/` and `/.well-known/` (configured `session.paths`), checked
 * before routing; undefined when there are none (no lookup on the hot path).
 */
export interface EndpointTable {
  readonly outside?: ReadonlySet<string> | undefined;
  readonly exact: ReadonlyMap<string, InternalEndpoint<RuntimeState>>;
  readonly prefixes: readonly InternalEndpoint<RuntimeState>[];
}

/** A compiled route as the server holds it: its config and its upstream handle. */
export type ServedRoute = CompiledRoute<RouteConfig, UpstreamHandle>;

/**
 * Everything a request needs, compiled once from one config and never mutated: swapped as a
 * whole on reload so in-flight requests finish on the state they started with.
 */
export interface RuntimeState {
  readonly config: GatehouseConfig;
  readonly router: Router<ServedRoute>;
  readonly routes: readonly ServedRoute[];
  readonly upstreams: ReadonlyMap<string, UpstreamHandle>;
  readonly endpoints: EndpointTable;
  readonly services: ReadonlyMap<string, unknown>;
  readonly trusted: CidrSet;
  readonly logger: Logger;
  readonly warnings: readonly ConfigProblem[];
  /** Starts each request's trace when `tracing:` is configured; undefined otherwise. */
  readonly tracer: RequestTracer | undefined;
  /** Runs deferred start work (e.g. JWKS loads). */
  start(): Promise<void>;
  /** Releases pools, timers and connections. */
  close(): Promise<void>;
}

/** Options for {@link compileState}. */
export interface CompileOptions {
  readonly logger: Logger;
  readonly baseDir: string;
  readonly dryRun?: boolean;
  /** Services supplied from outside (e.g. the audit log) before features compile. */
  readonly services?: ReadonlyMap<string, unknown>;
}

const PUBLIC_AUTHORIZER: Authorizer = Object.freeze({
  id: 'public',
  allowsAll: true,
  authorize: () => Object.freeze({ allow: true, reasons: Object.freeze(['route.public']) }),
});

const DENY_ALL: Authorizer = Object.freeze({
  id: 'default-deny',
  authorize: () => Object.freeze({ allow: false, reasons: Object.freeze(['rule.default_deny']) }),
});

function routeName(r: RouteConfig, i: number): string {
  return r.name ?? `routes[${i}]`;
}

/**
 * Compiles a validated config into a {@link RuntimeState}. Every problem (unknown upstream,
 * unreadable file, unknown authenticator, …) is collected and thrown together as a
 * {@link ConfigError}; warnings are returned on the state.
 */
export function compileState(config: GatehouseConfig, opts: CompileOptions): RuntimeState {
  const problems: ConfigProblem[] = [];
  const issue = (path: string, message: string, severity: 'error' | 'warning' = 'error') =>
    problems.push({ path, message, severity });
  const services = new Map<string, unknown>(opts.services ?? []);
  const startTasks: Array<() => Promise<void>> = [];
  const closeTasks: Array<() => Promise<void> | void> = [];
  const exact = new Map<string, InternalEndpoint<RuntimeState>>();
  const prefixes: InternalEndpoint<RuntimeState>[] = [];
  const outside = new Set<string>();
  const cctx: CompileContext<GatehouseConfig> = {
    config,
    logger: opts.logger,
    baseDir: opts.baseDir,
    issue,
    services,
    onStart: (fn) => startTasks.push(fn),
    onClose: (fn) => closeTasks.push(fn),
    registerEndpoint: (ep) => {
      if (!ep.path.startsWith('/.gatehouse/') && !ep.path.startsWith('/.well-known/')) {
        // Only configured exact paths (session.paths, e.g. /oauth2/callback) live elsewhere.
        if (ep.prefix || !ep.path.startsWith('/'))
          throw new Error(
            `internal endpoint ${ep.path} outside /.gatehouse/ and /.well-known/ must be exact`,
          );
        outside.add(ep.path);
      }
      if (ep.prefix) prefixes.push(ep);
      else exact.set(ep.path, ep);
    },
    dryRun: opts.dryRun ?? false,
  };

  config.server.trusted_proxies.forEach((c, i) => {
    const m = checkCidr(c);
    if (m) issue(`server.trusted_proxies[${i}]`, m);
  });

  checkSharedState(config, issue);

  const pages = loadPages(config.pages, opts.baseDir);
  for (const p of pages.problems) issue(p.path, p.message);
  services.set(PAGES_SERVICE, pages.pages);

  const entra = Object.entries(config.providers ?? {}).filter(([, p]) => p.preset.startsWith('entra'));
  const krb = kerberosAssembly(
    opts.baseDir,
    new Set(entra.map(([n]) => n)),
    opts.logger,
    issue,
    opts.dryRun ?? false,
  );
  startTasks.push(() => krb.start());
  closeTasks.push(() => krb.close());
  const upstreams = new Map<string, UpstreamHandle>();
  for (const [name, u] of Object.entries(config.upstreams)) {
    const at = `upstreams.${name}`;
    upstreams.set(
      name,
      krb.wrap(createUpstream(name, u, opts.baseDir, issue, at, healthLog(opts.logger, name)), u, at),
    );
    if (u.tls?.insecure_skip_verify) {
      opts.logger.warn(
        { upstream: name },
        `INSECURE: upstreams.${name}.tls.insecure_skip_verify is on: the upstream certificate is NOT verified`,
      );
    }
  }

  for (const f of features) f.compileGlobal?.(cctx);

  const routes: ServedRoute[] = [];
  const names = new Set<string>();
  config.routes.forEach((r, i) => {
    const keyPath = `routes[${i}]`;
    const name = routeName(r, i);
    if (names.has(name)) issue(`${keyPath}.name`, `duplicate route name "${name}"`);
    names.add(name);
    let upstream: UpstreamHandle | undefined;
    if (typeof r.upstream === 'string') {
      upstream = upstreams.get(r.upstream);
      if (!upstream) {
        const known = [...upstreams.keys()];
        issue(
          `${keyPath}.upstream`,
          `unknown upstream "${r.upstream}"${known.length ? `; expected one of ${known.join(', ')}` : ' (no upstreams are defined)'}`,
        );
      }
    } else {
      upstream = krb.wrap(
        createUpstream(
          `${name}`,
          r.upstream,
          opts.baseDir,
          issue,
          `${keyPath}.upstream`,
          healthLog(opts.logger, name),
        ),
        r.upstream,
        `${keyPath}.upstream`,
      );
      if (r.upstream.tls?.insecure_skip_verify) {
        opts.logger.warn(
          { route: name },
          `INSECURE: ${keyPath}.upstream.tls.insecure_skip_verify is on: the upstream certificate is NOT verified`,
        );
      }
    }
    if (r.rewrite_prefix !== undefined && r.strip_prefix === undefined) {
      issue(`${keyPath}.rewrite_prefix`, 'rewrite_prefix requires strip_prefix');
    }
    const auth = Array.isArray(r.auth) ? r.auth : [r.auth];
    const isPublic = auth.length === 1 && auth[0] === 'none';
    if (!isPublic && auth.includes('none'))
      issue(`${keyPath}.auth`, '"none" cannot be combined with other authenticators');
    const stages = emptyStages();
    for (const f of features) f.compileRoute?.(r, keyPath, cctx, stages);
    const stripNames = new Set([...stages.stripNames].map(normalizeHeaderName));
    const maxBody = r.max_body_size ?? config.server.max_body_size;
    const pp = routePathProblem(r.match.path, r.case_insensitive);
    if (pp) issue(`${keyPath}.match.path`, pp);
    const hosts = r.match.host;
    [hosts ?? []].flat().forEach((h, hi) => {
      const hp = routeHostProblem(h);
      if (hp) issue(`${keyPath}.match.host${Array.isArray(hosts) ? `[${hi}]` : ''}`, hp);
    });
    const upstreamCfg = typeof r.upstream === 'string' ? config.upstreams[r.upstream] : r.upstream;
    if (stages.websocket && upstreamCfg?.auth?.kerberos)
      issue(`${keyPath}.websocket`, 'WebSocket upgrades are not supported to an upstream with auth.kerberos');
    const authorizer = stages.authorizer ?? (isPublic ? PUBLIC_AUTHORIZER : DENY_ALL);
    if (!upstream) return;
    routes.push(
      Object.freeze({
        name,
        index: i,
        keyPath,
        config: r,
        methods: r.match.methods ? new Set<string>(r.match.methods) : undefined,
        caseInsensitive: r.case_insensitive,
        maxBodySize: maxBody === 'unlimited' ? Infinity : maxBody,
        upstream,
        preserveHost: r.preserve_host,
        stripPrefix:
          r.strip_prefix === undefined
            ? undefined
            : r.case_insensitive
              ? r.strip_prefix.toLowerCase()
              : r.strip_prefix,
        rewritePrefix: r.rewrite_prefix,
        public: isPublic,
        authenticators: Object.freeze(stages.authenticators),
        authorizer,
        fastPath:
          isPublic &&
          authorizer.allowsAll === true &&
          stages.limiters.length === 0 &&
          stages.mutators.length === 0,
        limiters: Object.freeze(stages.limiters),
        mutators: Object.freeze(stages.mutators),
        stripNames,
        trustedHeaders: stages.trustedHeaders,
        websocket: stages.websocket,
        ownCookies: ownCookies(stages),
      }),
    );
  });

  if (problems.some((p) => p.severity === 'error')) {
    for (const u of upstreams.values()) destroyUpstream(u);
    for (const r of routes) if (typeof r.config.upstream !== 'string') destroyUpstream(r.upstream);
    for (const t of closeTasks)
      void Promise.resolve()
        .then(t)
        .catch(() => undefined);
    throw new ConfigError(problems);
  }

  const router = new Router<ServedRoute>(
    routes.map((route) => ({
      route,
      hosts: route.config.match.host === undefined ? undefined : [route.config.match.host].flat(),
      path: route.config.match.path,
      pathType: route.config.match.path_type,
      methods: route.methods,
      caseInsensitive: route.caseInsensitive,
      index: route.index,
    })),
  );
  let closed = false;
  return Object.freeze({
    config,
    router,
    routes: Object.freeze(routes),
    upstreams,
    endpoints: { exact, prefixes, outside: outside.size > 0 ? outside : undefined },
    services,
    trusted: new CidrSet(config.server.trusted_proxies),
    logger: opts.logger,
    warnings: problems,
    tracer: services.get(TRACER_SERVICE) as RequestTracer | undefined,
    async start() {
      for (const u of ownUpstreams(upstreams, routes)) u.start();
      await Promise.all(startTasks.map((t) => t()));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([
        ...ownUpstreams(upstreams, routes).map((u) => closePool(u)),
        ...closeTasks.map((t) => Promise.resolve().then(t)),
      ]);
    },
  });
}

export type { ConfigIssue };

function destroyUpstream(u: UpstreamHandle): void {
  void u.destroy();
}

/** Every upstream a state created: the named ones and the routes' inline ones. */
function ownUpstreams(
  named: ReadonlyMap<string, UpstreamHandle>,
  routes: readonly ServedRoute[],
): UpstreamHandle[] {
  return [
    ...named.values(),
    ...routes.filter((r) => typeof r.config.upstream !== 'string').map((r) => r.upstream),
  ];
}

/** Logs a farm target going down (warn) or coming back (info) by its health check. */
function healthLog(logger: CompileOptions['logger'], upstream: string): HealthListener {
  return (t, up, detail) =>
    up
      ? logger.info({ upstream, target: t.id, detail }, 'upstream target healthy again')
      : logger.warn({ upstream, target: t.id, detail }, 'upstream target failed its health check');
}

/** Closes a pool gracefully, destroying it when requests are still open after `ms`. */
async function closePool(
  pool: { close(): Promise<void>; destroy(): Promise<void> },
  ms = 2000,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    pool.close(),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => void pool.destroy().then(resolve, resolve), ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
