/**
 * Strip before inject: every header Gatehouse can ever set upstream, and every header an
 * upstream (IIS, ASP.NET, a framework, a TLS terminator convention) would act on, is removed
 * from incoming requests on every route, public ones included. Names are compared after
 * {@link normalizeHeaderName} because IIS and CGI expose `X_Remote_User`, `x-remote-user` and
 * `X-REMOTE-USER` as the same server variable `HTTP_X_REMOTE_USER`.
 */

/** Lower-cases a header name and maps `_` to `-`, the form every strip comparison uses. */
export function normalizeHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes('_') ? lower.replaceAll('_', '-') : lower;
}

/** Why a request header never reaches the upstream from an untrusted client. */
export const HeaderClass = Object.freeze({
  /** An ordinary header: forwarded. */
  None: 0,
  /** Claims who the user is (Gatehouse's own, oauth2-proxy, Easy Auth, CGI `REMOTE_USER`…). */
  Identity: 1,
  /** Rewrites the path or method the upstream serves (IIS URL Rewrite, ASP.NET, frameworks). */
  Override: 2,
  /** Claims the client address, port, prefix or scheme (set by proxies, never by clients). */
  Forwarding: 3,
  /** Claims a verified client certificate (TLS terminators: RFC 9440, IIS ARR, nginx, Envoy). */
  ClientCert: 4,
} as const);
export type HeaderClass = (typeof HeaderClass)[keyof typeof HeaderClass];

/** The audit reason of each class, pushed once per request that had such a header removed. */
export const STRIP_REASONS: readonly string[] = Object.freeze([
  '',
  'header.spoof.stripped',
  'header.override.stripped',
  'header.forwarding.stripped',
  'header.client_cert.stripped',
]);

/** Exact (normalised) names of identity headers Gatehouse or a common proxy convention sets. */
export const ALWAYS_STRIPPED: ReadonlySet<string> = new Set([
  // oauth2-proxy / generic reverse-proxy conventions
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-groups',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
  'x-forwarded-name',
  'x-forwarded-roles',
  'x-remote-user',
  'x-remote-email',
  'x-remote-groups',
  'x-remote-name',
  'remote-user',
  'auth-user',
  'logon-user',
  // Azure App Service Easy Auth
  'x-ms-client-principal',
  'x-ms-client-principal-name',
  'x-ms-client-principal-id',
  'x-ms-client-principal-idp',
]);

/**
 * Path and method overrides: IIS URL Rewrite and ASP.NET read `X-Original-URL` /
 * `X-Rewrite-URL` as the URL to serve; Rails, Express `method-override`, ASP.NET Core
 * `UseHttpMethodOverride`, Spring `HiddenHttpMethodFilter` and others take the method from the
 * `X-HTTP-Method*` family. Forward-auth conventions (`X-Original-URI`, `X-Forwarded-Uri`,
 * `X-Forwarded-Method`) are only ever meaningful from Gatehouse's own proxy, never upstream.
 */
export const OVERRIDE_HEADERS: ReadonlySet<string> = new Set([
  'x-original-url',
  'x-original-uri',
  'x-rewrite-url',
  'x-forwarded-uri',
  'x-forwarded-path',
  'x-original-method',
  'x-forwarded-method',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

/**
 * Forwarding headers Gatehouse does not set itself: frameworks take the client address, port,
 * path prefix or scheme from them (ASP.NET Core `ForwardedHeaders`, Spring, Django, Express
 * `trust proxy`, CDN conventions). `X-Forwarded-For/-Proto/-Host`, `Forwarded` and
 * `X-Request-Id` are not listed: Gatehouse always rewrites those.
 */
export const FORWARDING_HEADERS: ReadonlySet<string> = new Set([
  'x-forwarded-prefix',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
  'x-forwarded-protocol',
  'x-url-scheme',
  'front-end-https',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'cf-connecting-ip',
  'fastly-client-ip',
]);

/**
 * Forwarding headers Gatehouse always rewrites: a trusted proxy's values are kept and extended,
 * an untrusted client's replaced. Compared normalised: a `X_Forwarded_For` spelling (the same
 * IIS server variable) is never a trusted value and is stripped.
 */
export const REWRITTEN_FORWARDING: ReadonlySet<string> = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'x-request-id',
]);

/** Client-certificate headers of TLS terminators (RFC 9440, IIS ARR, nginx, Envoy, Traefik). */
export const CLIENT_CERT_HEADERS: ReadonlySet<string> = new Set([
  'client-cert',
  'client-cert-chain',
  'x-arr-clientcert',
  'x-forwarded-client-cert',
  'x-client-verify',
  'x-client-dn',
  'x-ssl-cert',
]);

/** Normalised name prefixes and their class: any header starting with one is stripped. */
export const STRIPPED_PREFIXES: readonly (readonly [string, HeaderClass])[] = Object.freeze([
  ['x-gatehouse-', HeaderClass.Identity],
  ['x-auth-request-', HeaderClass.Identity],
  ['x-ms-token-', HeaderClass.Identity],
  ['x-client-cert', HeaderClass.ClientCert],
  ['x-ssl-client-', HeaderClass.ClientCert],
  ['ssl-client-', HeaderClass.ClientCert],
  ['x-forwarded-tls-client-cert', HeaderClass.ClientCert],
]);

/** Every listed name with its class. */
const CLASS_OF = new Map<string, HeaderClass>();
for (const n of ALWAYS_STRIPPED) CLASS_OF.set(n, HeaderClass.Identity);
for (const n of OVERRIDE_HEADERS) CLASS_OF.set(n, HeaderClass.Override);
for (const n of FORWARDING_HEADERS) CLASS_OF.set(n, HeaderClass.Forwarding);
for (const n of CLIENT_CERT_HEADERS) CLASS_OF.set(n, HeaderClass.ClientCert);

/** First characters of built-in names and prefixes: anything else is rejected with one lookup. */
const FIRST = new Uint8Array(128);
/** Prefixes indexed by their first character. */
const PREFIX_BY_FIRST: (Array<readonly [string, HeaderClass]> | undefined)[] = [];
for (const n of CLASS_OF.keys()) FIRST[n.charCodeAt(0)] = 1;
for (const p of STRIPPED_PREFIXES) {
  FIRST[p[0].charCodeAt(0)] = 1;
  (PREFIX_BY_FIRST[p[0].charCodeAt(0)] ??= []).push(p);
}

/**
 * The {@link HeaderClass} of a normalised request header name: a name the route injects
 * (`routeSet`, already normalised) is an identity header; then the built-in lists and prefixes.
 * Runs for every request header, so common names are answered after one table lookup.
 */
export function classifyHeader(normName: string, routeSet: ReadonlySet<string>): HeaderClass {
  if (routeSet.size !== 0 && routeSet.has(normName)) return HeaderClass.Identity;
  const c0 = normName.charCodeAt(0);
  if (c0 >= 128 || FIRST[c0] !== 1) return HeaderClass.None;
  const cls = CLASS_OF.get(normName);
  if (cls !== undefined) return cls;
  const ps = PREFIX_BY_FIRST[c0];
  if (ps !== undefined)
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i] as readonly [string, HeaderClass];
      if (normName.startsWith(p[0])) return p[1];
    }
  return HeaderClass.None;
}

/** True when a normalised header name must never reach the upstream from an untrusted client. */
export function isStripped(normName: string, routeSet: ReadonlySet<string>): boolean {
  return classifyHeader(normName, routeSet) !== HeaderClass.None;
}

/** Result of {@link stripForgedHeaders}. */
export interface StripResult {
  /** Remaining headers as flat raw `[name, value, name, value…]` pairs, order preserved. */
  readonly kept: string[];
  /** Original spelling of every removed header name (one entry per removed field line). */
  readonly stripped: string[];
}

/**
 * Removes forged identity headers from Node's `req.rawHeaders` (flat name/value pairs).
 * The forwarder audits `stripped` (`header.spoof.stripped`) and sends `kept`.
 */
export function stripForgedHeaders(
  rawHeaders: readonly string[],
  routeSet: ReadonlySet<string>,
): StripResult {
  const kept: string[] = [];
  const stripped: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (isStripped(normalizeHeaderName(name), routeSet)) stripped.push(name);
    else kept.push(name, rawHeaders[i + 1] as string);
  }
  return { kept, stripped };
}
