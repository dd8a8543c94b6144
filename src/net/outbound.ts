import { Agent, EnvHttpProxyAgent, ProxyAgent, fetch as undiciFetch, type Dispatcher } from 'undici';

/**
 * How one identity provider's outbound calls (discovery, JWKS, introspection, token, userinfo)
 * leave the machine:
 * - `env` (the default): `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (lower-case forms win), read
 *   once when the config is loaded;
 * - `none`: always direct, whatever the environment says;
 * - a URL `http://[user:password@]host:port`: every call goes through that proxy (the environment
 *   is ignored, `NO_PROXY` included).
 */
export type ProxySetting = 'env' | 'none' | string;

/** Settings of {@link Outbound}. */
export interface OutboundOptions {
  readonly proxy: ProxySetting;
  /**
   * PEM bundle trusted for TLS to the IdP (and to an https proxy). Replaces Node's built-in
   * roots for this provider; undefined: Node's roots (plus `NODE_EXTRA_CA_CERTS`).
   */
  readonly ca?: string | Buffer | undefined;
  /** Connect, headers and body timeout of each call, ms. */
  readonly timeoutMs: number;
  /** Environment to read proxy variables from (default `process.env`), read once here. */
  readonly env?: NodeJS.ProcessEnv;
  /** Closed by its builder (shared by several clients), not by a client that uses it. */
  readonly shared?: boolean;
}

/** The proxy variables in effect, as read at load (lower-case first, like curl and undici). */
export interface ProxyEnv {
  readonly httpProxy: string | undefined;
  readonly httpsProxy: string | undefined;
  readonly noProxy: string;
}

/** Reads `http_proxy`/`HTTP_PROXY`, `https_proxy`/`HTTPS_PROXY`, `no_proxy`/`NO_PROXY`. */
export function readProxyEnv(env: NodeJS.ProcessEnv = process.env): ProxyEnv {
  const pick = (lower: string, upper: string): string | undefined => {
    const v = env[lower] ?? env[upper];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  return {
    httpProxy: pick('http_proxy', 'HTTP_PROXY'),
    httpsProxy: pick('https_proxy', 'HTTPS_PROXY'),
    noProxy: pick('no_proxy', 'NO_PROXY') ?? '',
  };
}

/**
 * Parses a proxy URL: `http://` or `https://`, optional `user:password@`, a host, an optional
 * port, nothing else (no path, query or fragment). A bare `host:port` (as curl accepts in the
 * environment) means `http://host:port`. Returns a message instead when it is not usable; the
 * message never repeats the credentials.
 */
export function parseProxyUrl(raw: string): URL | string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    return 'expected a proxy URL such as "http://proxy.example.com:3128"';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    return `expected an http:// or https:// proxy URL, got ${u.protocol}//`;
  if (u.hostname === '') return 'expected a proxy host';
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '' || u.hash !== '')
    return 'a proxy URL has no path, query or fragment (http://host:port)';
  return u;
}

/** A proxy URL fit for logs: scheme, host and port; credentials become `***`. */
export function redactProxyUrl(u: URL | string): string {
  const url = typeof u === 'string' ? parseProxyUrl(u) : u;
  if (typeof url === 'string') return '(invalid proxy URL)';
  const creds = url.username !== '' || url.password !== '' ? '***@' : '';
  return `${url.protocol}//${creds}${url.host}`;
}

/** Thrown when a proxy setting (config or environment) is not a usable URL. */
export class ProxySettingError extends Error {
  constructor(
    /** `config` for the provider's `proxy` key, else the environment variable's name. */
    readonly source: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The dispatcher one provider's IdP calls go through, built once per config load: a plain
 * keep-alive {@link Agent}, a {@link ProxyAgent} (explicit `proxy`) or an
 * {@link EnvHttpProxyAgent} fed with the proxy variables as read at load (so `NO_PROXY` is not
 * re-read per request). https IdPs are reached through a `CONNECT` tunnel (TLS end to end, the
 * IdP's certificate verified against `ca` or Node's roots); plain-http IdPs (development only)
 * through an absolute-form request, which corporate proxies allow where `CONNECT` to port 80 is
 * usually refused. Proxy credentials become a `Proxy-Authorization` header and never appear in
 * {@link description}.
 */
export class Outbound {
  readonly dispatcher: Dispatcher;
  /** Where calls go, for logs: `direct`, `proxy http://host:port`, or the environment's. */
  readonly description: string;
  /** `fetch` through {@link dispatcher} (openid-client's `customFetch`). */
  readonly fetch: typeof globalThis.fetch;
  /** See {@link OutboundOptions.shared}. */
  readonly shared: boolean;

  constructor(opts: OutboundOptions) {
    this.shared = opts.shared === true;
    const tls = opts.ca === undefined ? {} : { ca: opts.ca };
    const connect = { timeout: opts.timeoutMs, ...tls };
    const common = {
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 4_000,
    };
    const proxied = (uri: URL): ProxyAgent =>
      new ProxyAgent({
        ...common,
        uri: uri.href,
        // https IdPs: CONNECT tunnel; http IdPs: absolute-form (see the class comment).
        proxyTunnel: false,
        requestTls: connect,
        proxyTls: connect,
      });
    const check = (source: string, raw: string): URL => {
      const u = parseProxyUrl(raw);
      if (typeof u === 'string') throw new ProxySettingError(source, u);
      return u;
    };
    if (opts.proxy === 'none') {
      this.dispatcher = new Agent({ ...common, connect });
      this.description = 'direct (proxy: none)';
    } else if (opts.proxy !== 'env') {
      const u = check('config', opts.proxy);
      this.dispatcher = proxied(u);
      this.description = `proxy ${redactProxyUrl(u)}`;
    } else {
      const env = readProxyEnv(opts.env);
      const http = env.httpProxy === undefined ? undefined : check('HTTP_PROXY', env.httpProxy);
      const https = env.httpsProxy === undefined ? undefined : check('HTTPS_PROXY', env.httpsProxy);
      if (!http && !https) {
        this.dispatcher = new Agent({ ...common, connect });
        this.description = 'direct (no proxy in the environment)';
      } else {
        this.dispatcher = new EnvHttpProxyAgent({
          ...common,
          connect,
          requestTls: connect,
          proxyTls: connect,
          proxyTunnel: false,
          // '' (not undefined): undici would otherwise read the environment again itself.
          httpProxy: http?.href ?? '',
          // Without HTTPS_PROXY, https requests use HTTP_PROXY (undici's rule).
          httpsProxy: https?.href ?? '',
          noProxy: env.noProxy,
        } as ConstructorParameters<typeof EnvHttpProxyAgent>[0]);
        const parts = [
          https || http ? `https via ${redactProxyUrl((https ?? http) as URL)}` : 'https direct',
          http ? `http via ${redactProxyUrl(http)}` : 'http direct',
        ];
        if (env.noProxy !== '') parts.push(`NO_PROXY ${env.noProxy}`);
        this.description = `environment (${parts.join(', ')})`;
      }
    }
    const dispatcher = this.dispatcher;
    this.fetch = ((input: string | URL, init?: RequestInit) =>
      undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as typeof globalThis.fetch;
  }

  /**
   * An outbound route that refuses every call with `reason` (fail closed): what a provider gets
   * when its proxy or CA settings are unusable and compilation goes on to report that.
   */
  static unusable(reason: string): Outbound {
    const out = new Outbound({ proxy: 'none', timeoutMs: 1000 });
    const dispatcher = new Agent({
      connect: (_opts, cb) => cb(new Error(`outbound settings unusable: ${reason}`), null),
    });
    void out.dispatcher.close();
    Object.assign(out, {
      dispatcher,
      description: 'nowhere (settings unusable)',
      fetch: ((input: string | URL, init?: RequestInit) =>
        undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as typeof globalThis.fetch,
    });
    return out;
  }

  /** Closes the dispatcher's connections (idempotent). */
  async close(): Promise<void> {
    await this.dispatcher.close().catch(() => undefined);
  }
}
