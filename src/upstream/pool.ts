import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { H1Pool } from './h1/client.js';
import type { UpstreamConfig } from '../config/schema.js';

/** A compiled upstream: its connection pools plus what forwarding needs per request. */
export interface UpstreamHandle {
  readonly name: string;
  /** Keep-alive HTTP/1.1 pool every proxied request goes through. */
  readonly client: H1Pool;
  /** Where and how to open a dedicated connection (WebSocket tunnels). */
  readonly target: UpstreamTarget;
  readonly origin: string;
  /** `host[:port]` of the upstream URL, sent as Host when a route does not preserve it. */
  readonly authority: string;
  /** Path of the upstream URL without trailing slash (`''` for `http://h:1/`). */
  readonly basePath: string;
  readonly secure: boolean;
  readonly insecureSkipVerify: boolean;
}

/** Address, TLS options and handshake timeouts of an upstream, for a dedicated connection. */
export interface UpstreamTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: ConnectionOptions | undefined;
  readonly connectTimeout: number;
  readonly headersTimeout: number;
}

/**
 * Builds the pool for an upstream once at config load: keep-alive, bounded connections with a
 * bounded wait for one (`max_queue`, `timeouts.queue`), connect/headers/idle timeouts and TLS (custom CA, client certificate for mutual TLS,
 * server name, minimum version). `insecure_skip_verify` is honoured only under that name.
 */
export function createUpstream(
  name: string,
  cfg: UpstreamConfig,
  baseDir: string,
  issue: (path: string, message: string) => void,
  keyPath: string,
): UpstreamHandle {
  const url = new URL(cfg.url);
  const secure = url.protocol === 'https:';
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
  const tls = cfg.tls;
  if (tls && !secure) issue(`${keyPath}.tls`, 'tls settings require an https:// upstream url');
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    issue(`${keyPath}.tls`, 'cert and key must be given together');
  }
  const connect = secure
    ? {
        ca: read(tls?.ca, 'ca'),
        cert: read(tls?.cert, 'cert'),
        key: read(tls?.key, 'key'),
        servername: tls?.server_name ?? (/^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname),
        minVersion: tls?.min_version ?? 'TLSv1.2',
        rejectUnauthorized: !(tls?.insecure_skip_verify ?? false),
      }
    : undefined;
  const client = new H1Pool({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port) || (secure ? 443 : 80),
    tls: connect,
    maxConnections: cfg.max_connections,
    maxQueue: cfg.max_queue,
    queueTimeout: cfg.timeouts.queue,
    connectTimeout: cfg.timeouts.connect,
    headersTimeout: cfg.timeouts.headers,
    bodyTimeout: cfg.timeouts.idle,
    keepAliveTimeout: cfg.timeouts.keep_alive,
  });
  const target: UpstreamTarget = Object.freeze({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port) || (secure ? 443 : 80),
    tls: connect,
    connectTimeout: cfg.timeouts.connect,
    headersTimeout: cfg.timeouts.headers,
  });
  return Object.freeze({
    name,
    client,
    target,
    origin: url.origin,
    authority: url.host,
    basePath: url.pathname.replace(/\/+$/, ''),
    secure,
    insecureSkipVerify: tls?.insecure_skip_verify ?? false,
  });
}
