/**
 * Strip before inject: every header Gatehouse can ever set upstream is removed from incoming
 * requests on every route, public ones included. Names are compared after
 * {@link normalizeHeaderName} because IIS and CGI expose `X_Remote_User`, `x-remote-user` and
 * `X-REMOTE-USER` as the same server variable `HTTP_X_REMOTE_USER`.
 */

/** Lower-cases a header name and maps `_` to `-`, the form every strip comparison uses. */
export function normalizeHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes('_') ? lower.replaceAll('_', '-') : lower;
}

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
  // client-certificate forwarding conventions (IIS ARR, Envoy, Traefik, nginx)
  'x-arr-clientcert',
  'x-forwarded-client-cert',
  'ssl-client-cert',
  'x-client-verify',
]);

/** Normalised name prefixes: any header starting with one of these is stripped. */
export const ALWAYS_STRIPPED_PREFIXES: readonly string[] = Object.freeze([
  'x-gatehouse-',
  'x-auth-request-',
  'x-ms-token-',
  'x-client-cert',
  'x-ssl-client-',
  'x-forwarded-tls-client-cert',
]);

/** First characters of built-in names and prefixes: anything else is rejected with one lookup. */
const FIRST = new Uint8Array(128);
/** Built-in prefixes indexed by their third character (all start with `x-`). */
const PREFIX_BY_THIRD: (string[] | undefined)[] = [];
for (const n of ALWAYS_STRIPPED) FIRST[n.charCodeAt(0)] = 1;
for (const p of ALWAYS_STRIPPED_PREFIXES) {
  FIRST[p.charCodeAt(0)] = 1;
  (PREFIX_BY_THIRD[p.charCodeAt(2)] ??= []).push(p);
}

/**
 * True when a normalised header name must never reach the upstream from the client:
 * listed in {@link ALWAYS_STRIPPED}, starting with one of {@link ALWAYS_STRIPPED_PREFIXES},
 * or named in the route's own set (its configured identity headers, already normalised).
 * Runs for every request header, so common names are rejected after one table lookup.
 */
export function isStripped(normName: string, routeSet: ReadonlySet<string>): boolean {
  if (routeSet.size !== 0 && routeSet.has(normName)) return true;
  const c0 = normName.charCodeAt(0);
  if (c0 >= 128 || FIRST[c0] !== 1) return false;
  if (c0 === 0x78 && normName.charCodeAt(1) === 0x2d) {
    const ps = PREFIX_BY_THIRD[normName.charCodeAt(2)];
    if (ps !== undefined)
      for (let i = 0; i < ps.length; i++) if (normName.startsWith(ps[i] as string)) return true;
  }
  return ALWAYS_STRIPPED.has(normName);
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
