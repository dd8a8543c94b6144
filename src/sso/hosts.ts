import type { RequestContext } from '../pipeline/context.js';
import { safeReturnTo } from '../oidc/redirect.js';

/** One entry of `session.sso.hosts`, compiled. */
interface HostPattern {
  readonly scheme: 'http:' | 'https:';
  /** Exact host (`payroll.example.com`) or, for wildcards, the suffix with its dot (`.apps.example.com`). */
  readonly host: string;
  readonly wildcard: boolean;
  /** `:8443` or '' (the scheme's default port). */
  readonly port: string;
}

const DEFAULT_PORT: Record<string, string> = { 'http:': '80', 'https:': '443' };

function compile(origin: string): HostPattern {
  const m = /^(https?):\/\/(\*\.)?([^/:]+)(?::(\d+))?\/?$/i.exec(origin) as RegExpExecArray;
  const scheme = `${(m[1] as string).toLowerCase()}:` as 'http:' | 'https:';
  const wildcard = m[2] !== undefined;
  const name = (m[3] as string).toLowerCase();
  const port = m[4] === undefined || m[4] === DEFAULT_PORT[scheme] ? '' : `:${Number(m[4])}`;
  return { scheme, host: wildcard ? `.${name}` : name, wildcard, port };
}

/**
 * The app hosts of a multi-host estate (`session.sso.hosts`) and the login host. Every lookup
 * works on the `Host` header the browser sent and the *configured* scheme: an app host's origin
 * is never taken from `X-Forwarded-*` or from the request scheme, so a handoff can only ever be
 * sent to an origin an operator listed (open-redirect proof).
 */
export class SsoHosts {
  readonly #exact = new Map<string, string>();
  readonly #wild: readonly HostPattern[];
  /** `login.example.com[:port]` as a browser sends it in `Host`. */
  readonly loginHost: string;
  readonly loginOrigin: string;

  constructor(loginOrigin: string, hosts: readonly string[]) {
    const login = new URL(loginOrigin);
    this.loginOrigin = login.origin;
    this.loginHost = login.host.toLowerCase();
    const wild: HostPattern[] = [];
    for (const h of hosts) {
      const p = compile(h);
      if (p.wildcard) wild.push(p);
      else this.#exact.set(`${p.host}${p.port}`, `${p.scheme}//${p.host}${p.port}`);
    }
    // Longest suffix first, so the most specific wildcard decides the scheme.
    this.#wild = wild.sort((a, b) => b.host.length - a.host.length);
  }

  /** The configured origin of the app host `hostHeader` (`host[:port]`), or undefined. */
  originOf(hostHeader: string): string | undefined {
    const h = hostHeader.toLowerCase();
    if (h === this.loginHost) return undefined;
    const exact = this.#exact.get(h);
    if (exact !== undefined) return exact;
    if (this.#wild.length === 0) return undefined;
    const colon = h.lastIndexOf(':');
    const bracket = h.lastIndexOf(']');
    const name = colon > bracket ? h.slice(0, colon) : h;
    const port = colon > bracket ? h.slice(colon) : '';
    for (const p of this.#wild) {
      const portOk = p.port === port || (p.port === '' && port === `:${DEFAULT_PORT[p.scheme]}`);
      if (portOk && name.endsWith(p.host) && name.length > p.host.length && /^[a-z0-9.-]+$/.test(name))
        return `${p.scheme}//${name}${p.port}`;
    }
    return undefined;
  }

  /** The app-host origin of this request (a listed host other than the login host), or undefined. */
  appOrigin(ctx: RequestContext): string | undefined {
    return this.originOf(ctx.hostHeader);
  }

  /**
   * `target` as a normalised absolute URL when it is on a configured app host (same strict rules
   * as login's return-to: no userinfo, controls, backslashes or encoded tricks), else undefined.
   */
  safeAppUrl(target: string): string | undefined {
    let u: URL;
    try {
      u = new URL(target);
    } catch {
      return undefined;
    }
    const origin = this.originOf(u.host);
    if (origin === undefined || origin !== u.origin) return undefined;
    const path = safeReturnTo(target, { origin, allowedDomains: [] });
    return path === undefined ? undefined : `${origin}${path}`;
  }
}
