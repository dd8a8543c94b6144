import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a redirect listener sends clients, compiled once at load. */
export interface RedirectTarget {
  /** Exact host names (lower case) a redirect may name. */
  readonly hosts: ReadonlySet<string>;
  /** Suffixes of `*.suffix` route hosts (with the leading dot). */
  readonly wildcards: readonly string[];
  /** `:port` appended to the host, or '' for 443. */
  readonly portSuffix: string;
}

const HOST = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)\.?(?::(\d{1,5}))?$/;

/**
 * What redirect listeners read of the config: a structural view, so the config schema can call
 * {@link redirectListenerIssues} without an import cycle.
 */
export interface RedirectConfig {
  readonly server: {
    readonly external_url?: string | undefined;
    readonly listeners: readonly {
      readonly redirect_to_https?: boolean;
      readonly https_port?: number | undefined;
    }[];
  };
  readonly routes: readonly { readonly match: { readonly host?: string | readonly string[] | undefined } }[];
}

/**
 * The host names a redirect listener may send clients to: every exact route host, every
 * `*.suffix` route host (one or more labels before the suffix), and the host of
 * `server.external_url`. A route without a host (or `*`) adds none: the Host header alone never
 * decides where a client is sent. `httpsPort` is the port of the target (443 is omitted).
 */
export function compileRedirectTarget(config: RedirectConfig, httpsPort: number): RedirectTarget {
  const hosts = new Set<string>();
  const wildcards: string[] = [];
  for (const r of config.routes) {
    const h = r.match.host;
    for (const raw of h === undefined ? [] : Array.isArray(h) ? h : [h]) {
      const v = raw.trim().toLowerCase().replace(/\.$/, '');
      if (v === '*' || v === '') continue;
      if (v.startsWith('*.')) wildcards.push(v.slice(1));
      else hosts.add(v);
    }
  }
  if (config.server.external_url !== undefined) hosts.add(new URL(config.server.external_url).hostname);
  return { hosts, wildcards, portSuffix: httpsPort === 443 ? '' : `:${httpsPort}` };
}

/**
 * Config problems of redirect listeners (for validation): one with no host to redirect to.
 * Paths are key paths (`server.listeners[0].redirect_to_https`).
 */
export function redirectListenerIssues(
  config: RedirectConfig,
): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  for (const [i, l] of config.server.listeners.entries()) {
    if (!l.redirect_to_https) continue;
    const t = compileRedirectTarget(config, l.https_port ?? 443);
    if (t.hosts.size === 0 && t.wildcards.length === 0)
      out.push({ path: ['server', 'listeners', i, 'redirect_to_https'], message: NO_HOST });
  }
  return out;
}

/** Why a redirect listener cannot start when no host is allowed. */
export const NO_HOST =
  'no host to redirect to: set server.external_url or give routes a match.host (the Host header alone never chooses the target)';

/** The redirect target's host name for a Host header, or undefined when it is not allowed. */
export function allowedHost(t: RedirectTarget, header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = HOST.exec(header.toLowerCase());
  if (!m) return undefined;
  const host = m[1] as string;
  if (t.hosts.has(host)) return host;
  return t.wildcards.some((s) => host.length > s.length && host.endsWith(s)) ? host : undefined;
}

/**
 * Answers every request on a redirect listener: `301` (GET, HEAD) or `308` (other methods, which
 * keeps method and body, RFC 9110 §15.4.9) to `https://<host>[:port]<path?query>`, or `400` when
 * the Host is not one Gatehouse serves or the target is not origin-form. Nothing is proxied and
 * no request body is read.
 */
export function redirectToHttps(t: RedirectTarget, req: IncomingMessage, res: ServerResponse): void {
  const host = allowedHost(t, req.headers.host);
  const target = req.url ?? '';
  const plain = (status: number, body: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      ...extra,
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (host === undefined || !/^\/[\x21-\x7e]*$/.test(target)) {
    res.shouldKeepAlive = false;
    return plain(400, 'Bad Request: unknown host\n', { connection: 'close' });
  }
  const location = `https://${host}${t.portSuffix}${target}`;
  const status = req.method === 'GET' || req.method === 'HEAD' ? 301 : 308;
  // A body is never read: close after answering rather than parse what follows it.
  if (status === 308) res.shouldKeepAlive = false;
  plain(status, `Redirecting to ${location}\n`, { location });
}
