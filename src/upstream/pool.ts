import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { H1Pool, type H1Exchange, type H1Handler, type H1Request } from './h1/client.js';
import type { UpstreamConfig } from './schema.js';
import { Farm } from './farm/farm.js';
import { FarmTarget, type PassivePolicy } from './farm/target.js';
import { createBalancer } from './farm/balancer.js';
import { HealthChecker, type HealthListener } from './farm/health.js';
import type { UpstreamTarget } from './target.js';
import type { CompiledRoute } from '../pipeline/route.js';
import type { RequestContext } from '../pipeline/context.js';

/**
 * The upstream handle of a compiled route. Routes reach the pipeline with the narrow
 * `RouteUpstream` view; the assembler (`config/compile.ts`) gives every route an
 * {@link UpstreamHandle}, and only the forwarding layer looks inside it.
 */
export function upstreamOf(route: CompiledRoute): UpstreamHandle {
  return route.upstream as UpstreamHandle;
}

/** A compiled upstream: its connection pools plus what forwarding needs per request. */
export interface UpstreamHandle {
  readonly name: string;
  /** Keep-alive HTTP/1.1 pool every proxied request goes through (a farm's: its first target's). */
  readonly client: H1Pool;
  /** Where and how to open a dedicated connection (WebSocket tunnels); a farm's first target. */
  readonly target: UpstreamTarget;
  /**
   * Set for `targets:` (or a health check): requests go through {@link Farm.request} instead
   * of `client`. Undefined for a single `url:` so its hot path stays one pool call.
   */
  readonly farm: Farm | undefined;
  /**
   * Set when requests are sent on the user's behalf over connections pinned to her (Kerberos
   * delegation, `auth.kerberos`): every request goes through it instead of `client`.
   */
  readonly delegate: UpstreamDelegate | undefined;
  readonly origin: string;
  /** `host[:port]` sent as Host when a route does not preserve it (`host_header`, else the (first) URL's). */
  readonly authority: string;
  /** Path of the upstream URL without trailing slash (`''` for `http://h:1/`). */
  readonly basePath: string;
  readonly secure: boolean;
  readonly insecureSkipVerify: boolean;
  /** Starts background work (health checks). */
  start(): void;
  /** Stops taking requests; resolves when busy connections finished. */
  close(): Promise<void>;
  /** Closes every connection now. */
  destroy(): Promise<void>;
}

/** Sends an upstream's requests itself, e.g. over per-user authenticated connections. */
export interface UpstreamDelegate {
  request(ctx: RequestContext, req: H1Request, handler: H1Handler): H1Exchange;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

/** The handle with `delegate` sending its requests (closed and destroyed with it). */
export function withDelegate(handle: UpstreamHandle, delegate: UpstreamDelegate): UpstreamHandle {
  return Object.freeze({
    ...handle,
    delegate,
    close: () => Promise.all([handle.close(), delegate.close()]).then(() => undefined),
    destroy: () => Promise.all([handle.destroy(), delegate.destroy()]).then(() => undefined),
  });
}

/**
 * Builds the pools of an upstream once at config load: keep-alive, bounded connections with a
 * bounded wait for one (`max_queue`, `timeouts.queue`), connect/headers/idle timeouts and TLS
 * (custom CA, client certificate for mutual TLS, server name, minimum version) —
 * `insecure_skip_verify` is honoured only under that name. With `targets:` every target gets
 * its own pool (each bounded by `max_connections`) and the upstream a {@link Farm}. All
 * targets share scheme, path and TLS settings. `onHealth` hears health-check verdict changes.
 */
export function createUpstream(
  name: string,
  cfg: UpstreamConfig,
  baseDir: string,
  issue: (path: string, message: string) => void,
  keyPath: string,
  onHealth: HealthListener = () => undefined,
): UpstreamHandle {
  const specs = cfg.targets ?? [{ url: cfg.url ?? 'http://invalid', weight: 1 }];
  const urls = specs.map((t) => new URL(t.url));
  const first = urls[0] as URL;
  const secure = first.protocol === 'https:';
  const basePath = first.pathname.replace(/\/+$/, '');
  urls.forEach((u, i) => {
    const at = `${keyPath}.targets[${i}].url`;
    if ((u.protocol === 'https:') !== secure)
      issue(at, `every target must use ${first.protocol}// like the first`);
    else if (u.pathname.replace(/\/+$/, '') !== basePath)
      issue(at, `every target must have the path of the first ("${first.pathname}")`);
    if (urls.findIndex((o) => o.origin === u.origin) !== i) issue(at, `duplicate target ${u.origin}`);
  });
  const tls = cfg.tls;
  if (tls && !secure) issue(`${keyPath}.tls`, 'tls settings require an https:// upstream url');
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    issue(`${keyPath}.tls`, 'cert and key must be given together');
  }
  const read = (p: string | undefined, key: string): Buffer | undefined => {
    if (p === undefined) return undefined;
    try {
      return readFileSync(resolve(baseDir, p));
    } catch (e) {
      issue(
        `${keyPath}.tls.${key}`,
        `cannot read file ${p}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
      return undefined;
    }
  };
  const files = secure
    ? { ca: read(tls?.ca, 'ca'), cert: read(tls?.cert, 'cert'), key: read(tls?.key, 'key') }
    : {};
  const address = (url: URL): UpstreamTarget =>
    Object.freeze({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port) || (secure ? 443 : 80),
      tls: secure
        ? {
            ...files,
            servername: tls?.server_name ?? (/^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname),
            minVersion: tls?.min_version ?? 'TLSv1.2',
            rejectUnauthorized: !(tls?.insecure_skip_verify ?? false),
          }
        : undefined,
      connectTimeout: cfg.timeouts.connect,
      headersTimeout: cfg.timeouts.headers,
    });
  const poolFor = (a: UpstreamTarget): H1Pool =>
    new H1Pool({
      host: a.host,
      port: a.port,
      tls: a.tls,
      maxConnections: cfg.max_connections,
      maxQueue: cfg.max_queue,
      queueTimeout: cfg.timeouts.queue,
      connectTimeout: cfg.timeouts.connect,
      headersTimeout: cfg.timeouts.headers,
      bodyTimeout: cfg.timeouts.idle,
      keepAliveTimeout: cfg.timeouts.keep_alive,
    });
  const authority = cfg.host_header ?? first.host;
  const common = {
    name,
    origin: first.origin,
    authority,
    basePath,
    secure,
    insecureSkipVerify: tls?.insecure_skip_verify ?? false,
  };
  if (cfg.targets === undefined && cfg.health_check === undefined) {
    const target = address(first);
    const client = poolFor(target);
    return Object.freeze({
      ...common,
      client,
      target,
      farm: undefined,
      delegate: undefined,
      start: () => undefined,
      close: () => client.close(),
      destroy: () => client.destroy(),
    });
  }
  const p = cfg.passive_health;
  const policy: PassivePolicy = { maxFailures: p.max_failures, count5xx: p.count_5xx, coolDown: p.cool_down };
  const targets = urls.map((u, i) => {
    const a = address(u);
    return new FarmTarget(u.origin, i, specs[i]?.weight ?? 1, poolFor(a), a, policy);
  });
  const hc = cfg.health_check;
  const checker = hc ? new HealthChecker(targets, hc, authority, onHealth) : undefined;
  const retryAfter = Math.max(1, Math.ceil((hc?.interval ?? p.cool_down) / 1000));
  const farm = new Farm(
    name,
    cfg.balance,
    targets,
    createBalancer(cfg.balance, targets, cfg.sticky_fallback),
    checker,
    retryAfter,
  );
  const head = targets[0] as FarmTarget;
  return Object.freeze({
    ...common,
    client: head.pool,
    target: head.address,
    farm,
    delegate: undefined,
    start: () => farm.start(),
    close: () => farm.close(),
    destroy: () => farm.destroy(),
  });
}
