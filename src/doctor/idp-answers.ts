/**
 * Reads an identity provider's answer to an authorization request and says whether it accepted
 * the client id and redirect URI. IdPs never redirect those two errors back to the client
 * (RFC 6749 §4.1.2.1): they show an error page, whose wording differs per vendor.
 * @module
 */

/** What the answer means for the login configuration. */
export type AuthorizeVerdict =
  'accepted' | 'redirect_uri_mismatch' | 'unknown_client' | 'error_redirected' | 'unrecognised';

/** The classification of one answer. */
export interface AuthorizeAnswer {
  readonly verdict: AuthorizeVerdict;
  /** `entra`, `okta`, `keycloak`, `oidc-provider`, `auth0`, `google` or `oauth` (generic). */
  readonly vendor?: string | undefined;
  /** The IdP's error code (`AADSTS50011`, `invalid_redirect_uri`…). */
  readonly code?: string | undefined;
  /** The IdP's own words, decoded, trimmed to a sentence or two. */
  readonly message: string;
}

interface Pattern {
  readonly vendor: string;
  readonly verdict: 'redirect_uri_mismatch' | 'unknown_client';
  readonly re: RegExp;
  readonly code?: string;
}

/** Documented error texts, most specific first. */
const PATTERNS: readonly Pattern[] = [
  { vendor: 'entra', verdict: 'redirect_uri_mismatch', re: /AADSTS50011\b[^<\n]*/, code: 'AADSTS50011' },
  { vendor: 'entra', verdict: 'unknown_client', re: /AADSTS700016\b[^<\n]*/, code: 'AADSTS700016' },
  { vendor: 'entra', verdict: 'unknown_client', re: /AADSTS90002\b[^<\n]*/, code: 'AADSTS90002' },
  {
    vendor: 'okta',
    verdict: 'redirect_uri_mismatch',
    re: /The ['‘]redirect_uri['’] parameter must be[^<\n]*/,
  },
  { vendor: 'okta', verdict: 'unknown_client', re: /Invalid value for ['‘]client_id['’] parameter[^<\n]*/ },
  { vendor: 'keycloak', verdict: 'redirect_uri_mismatch', re: /Invalid parameter: redirect_uri/ },
  { vendor: 'keycloak', verdict: 'unknown_client', re: /Client not found\.?/ },
  { vendor: 'auth0', verdict: 'redirect_uri_mismatch', re: /Callback URL mismatch[^<\n]*/ },
  { vendor: 'auth0', verdict: 'unknown_client', re: /Unknown client[^<\n]*/ },
  { vendor: 'google', verdict: 'redirect_uri_mismatch', re: /Error 400: redirect_uri_mismatch/ },
  { vendor: 'google', verdict: 'unknown_client', re: /Error 401: (invalid_client|deleted_client)/ },
  {
    vendor: 'oidc-provider',
    verdict: 'redirect_uri_mismatch',
    re: /invalid_redirect_uri|redirect_uri did not match any of the client's registered redirect_uris/,
    code: 'invalid_redirect_uri',
  },
  {
    vendor: 'oauth',
    verdict: 'redirect_uri_mismatch',
    re: /redirect_uri_mismatch/,
    code: 'redirect_uri_mismatch',
  },
  { vendor: 'oauth', verdict: 'unknown_client', re: /\binvalid_client\b/ },
];

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
};

/** HTML page → plain text: tags and scripts removed, entities decoded, whitespace collapsed. */
export function pageText(body: string): string {
  return body
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return Number.isFinite(n) ? String.fromCodePoint(n) : m;
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    })
    .replace(/\\u0027/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

function sameEndpoint(location: string, redirectUri: string): URL | undefined {
  try {
    const l = new URL(location, redirectUri);
    const r = new URL(redirectUri);
    return l.origin === r.origin && l.pathname === r.pathname ? l : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Classifies the answer to `GET <authorization_endpoint>?client_id=…&redirect_uri=…` (sent
 * without following redirects): a redirect to the sign-in page (or any page other than the
 * redirect URI) is `accepted`; a redirect back to the redirect URI with `error=` is
 * `error_redirected` (client and redirect URI fine, something else refused); an error page is
 * matched against the vendors' documented texts; anything else is `unrecognised`.
 */
export function classifyAuthorizeAnswer(a: {
  status: number;
  location?: string | undefined;
  body: string;
  redirectUri: string;
}): AuthorizeAnswer {
  if (a.status >= 300 && a.status < 400 && a.location) {
    const back = sameEndpoint(a.location, a.redirectUri);
    const err = back?.searchParams.get('error');
    if (back && err)
      return {
        verdict: 'error_redirected',
        vendor: 'oauth',
        code: err,
        message: `${err}${back.searchParams.get('error_description') ? `: ${back.searchParams.get('error_description')}` : ''}`,
      };
    // Some IdPs (Entra ID among them) redirect to their own error page with the code in the URL.
    const inUrl = matchPatterns(decodeURIComponent(a.location));
    if (inUrl) return inUrl;
    return { verdict: 'accepted', message: `redirected to ${a.location.split('?')[0]}` };
  }
  const text = pageText(a.body);
  // Entra ID puts its message in a script block (`$Config = {…"strServiceExceptionMessage"…}`).
  const hit = matchPatterns(text) ?? matchPatterns(a.body.replace(/\\u0027/g, "'"));
  if (hit) return hit;
  if (a.status === 200)
    return { verdict: 'accepted', message: 'the IdP shows a page (its sign-in page, no known error text)' };
  return { verdict: 'unrecognised', message: `HTTP ${a.status}: ${text.slice(0, 200)}` };
}

function matchPatterns(text: string): AuthorizeAnswer | undefined {
  for (const p of PATTERNS) {
    const m = p.re.exec(text);
    if (m) {
      const at = Math.max(0, m.index);
      return {
        verdict: p.verdict,
        vendor: p.vendor,
        code: p.code ?? m[0].slice(0, 60),
        message: text
          .slice(at, at + 300)
          .replace(/\s*error_description\s*:\s*/, ': ')
          .replace(/\s+(state|iss|trace id|correlation id|timestamp)\s*:.*$/i, '')
          .trim(),
      };
    }
  }
  return undefined;
}
