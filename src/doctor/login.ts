/**
 * Login checks (`session.login`): the redirect URI Gatehouse sends, the session cookie against
 * the scheme users reach Gatehouse on, and a probe of the IdP's authorization endpoint with the
 * configured client id and redirect URI, read without following redirects.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { discoveryUrlFor } from '../authn/discovery.js';
import type { LoginConfig } from '../session/schema.js';
import type { DoctorContext } from './context.js';
import { classifyAuthorizeAnswer } from './idp-answers.js';
import { answerSummary, isFailure, jsonObject, probe } from './probe.js';
import { finding, type Finding } from './report.js';

const WHERE: Readonly<Record<string, string>> = {
  entra: 'Entra admin center → App registrations → your app → Authentication → Web → Redirect URIs',
  okta: 'Okta admin → Applications → your app → General → Sign-in redirect URIs',
  keycloak: 'Keycloak admin → Clients → your client → Valid redirect URIs',
  auth0: 'Auth0 dashboard → Applications → your app → Allowed Callback URLs',
  google:
    'Google Cloud console → APIs & Services → Credentials → your OAuth client → Authorized redirect URIs',
};

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/i;

/** The login settings the probe needs (`session.login` and each `session.logins` entry). */
type LoginSettings = Pick<LoginConfig, 'provider' | 'client_id' | 'scopes' | 'extra_auth_params'>;

/** Runs the login checks for `session.login` and every `session.logins` entry; none without a session. */
export async function checkLogin(ctx: DoctorContext): Promise<Finding[]> {
  const session = ctx.config.session;
  const rt = ctx.session;
  if (!session || !rt) return [];
  const logins: [string, LoginSettings][] = [
    ['session.login', session.login],
    ...Object.entries(session.logins ?? {}).map(([n, l]): [string, LoginSettings] => [
      `session.logins.${n}`,
      l,
    ]),
  ];
  const probed = (
    await Promise.all(logins.map(([subject, l]) => probeLogin(ctx, rt.redirectUri, subject, l)))
  ).flat();
  // A refused redirect URI replaces the "Gatehouse sends this redirect URI" line: one finding per id.
  const refused = probed.some((f) => f.id === 'login.redirect_uri');
  return [
    ...(refused
      ? []
      : [
          finding.ok(
            'login.redirect_uri',
            'session.login',
            'Gatehouse sends this redirect URI; it must be registered at the IdP exactly (scheme, host, port, path)',
            `redirect_uri=${rt.redirectUri} (server.external_url + session.login.redirect_path)`,
          ),
        ]),
    cookieFinding(ctx, rt.origin, rt.cookieName),
    ...probed,
  ];
}

/** Probes one login's authorization endpoint with its client id and the session's redirect URI. */
async function probeLogin(
  ctx: DoctorContext,
  redirectUri: string,
  subject: string,
  login: LoginSettings,
): Promise<Finding[]> {
  const out: Finding[] = [];
  const pcfg = ctx.config.providers?.[login.provider];
  if (!pcfg) return out;
  let doc = ctx.discovered.get(login.provider)?.doc;
  const dispatcher = ctx.dispatcherFor(login.provider);
  if (!doc) {
    const url = pcfg.discovery_url ?? discoveryUrlFor(pcfg.issuer);
    const r = await probe(url, {
      dispatcher,
      timeoutMs: ctx.timeoutMs,
      headers: { accept: 'application/json' },
    });
    doc = !isFailure(r) && r.status === 200 ? jsonObject(r.body) : undefined;
    if (!doc) {
      out.push(
        finding.error(
          'login.authorize',
          subject,
          'sign-in is unavailable: the discovery document of the login provider cannot be fetched',
          `GET ${url}: ${answerSummary(r)}`,
          `see provider.discovery for providers.${login.provider}; browsers get 503 GH_LOGIN_IDP_UNAVAILABLE until it answers`,
        ),
      );
      return out;
    }
  }
  const endpoint = doc.authorization_endpoint;
  if (typeof endpoint !== 'string') {
    out.push(
      finding.error(
        'login.authorize',
        subject,
        'the discovery document names no authorization_endpoint',
        undefined,
        `check providers.${login.provider}.issuer: it must be an OpenID Connect provider`,
      ),
    );
    return out;
  }
  const url = new URL(endpoint);
  const verifier = randomBytes(32).toString('base64url');
  const params: Record<string, string> = {
    ...login.extra_auth_params,
    response_type: 'code',
    client_id: login.client_id,
    redirect_uri: redirectUri,
    scope: login.scopes.join(' '),
    state: `doctor-${randomBytes(6).toString('hex')}`,
    nonce: randomBytes(12).toString('base64url'),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const r = await probe(url.href, { dispatcher, timeoutMs: ctx.timeoutMs, headers: { accept: 'text/html' } });
  const shown = `GET ${endpoint}?client_id=${login.client_id}&redirect_uri=${redirectUri}&…`;
  if (isFailure(r)) {
    out.push(
      finding.error(
        'login.authorize',
        subject,
        'the authorization endpoint cannot be reached',
        `${shown}: ${answerSummary(r)}`,
        'browsers must reach it too: check the IdP URL, firewalls and the outbound proxy',
      ),
    );
    return out;
  }
  const a = classifyAuthorizeAnswer({
    status: r.status,
    location: r.headers.location,
    body: r.body,
    redirectUri,
  });
  const evidence = `${shown}\n→ HTTP ${r.status}${r.headers.location ? ` Location: ${r.headers.location.split('?')[0]}` : ''}${a.vendor ? `\n${a.vendor}: ${a.message}` : ''}`;
  switch (a.verdict) {
    case 'accepted':
      out.push(
        finding.ok(
          'login.authorize',
          subject,
          'the IdP accepts the client id and redirect URI',
          `${shown}\n→ HTTP ${r.status}: ${a.message}`,
        ),
      );
      break;
    case 'redirect_uri_mismatch':
      out.push(
        finding.error(
          'login.redirect_uri',
          subject,
          `the IdP refuses the redirect URI (${a.code ?? 'redirect_uri mismatch'})`,
          evidence,
          `Gatehouse sends redirect_uri=${redirectUri} (server.external_url + session.login.redirect_path): register exactly this URI at the IdP${WHERE[a.vendor ?? ''] ? ` (${WHERE[a.vendor ?? '']})` : ''}, or change server.external_url / redirect_path to produce the URI registered there`,
        ),
      );
      break;
    case 'unknown_client':
      out.push(
        finding.error(
          'login.client_id',
          subject,
          `the IdP does not know client_id "${login.client_id}" (${a.code ?? 'invalid_client'})`,
          evidence,
          `set session.login.client_id to the application (client) id registered at the IdP${a.vendor === 'entra' ? ' — and check the tenant in the issuer: the app may live in another tenant' : ''}`,
        ),
      );
      break;
    case 'error_redirected':
      out.push(
        finding.error(
          'login.authorize',
          subject,
          `the IdP accepts client and redirect URI but refuses the request: ${a.code}`,
          evidence,
          a.code === 'invalid_scope'
            ? `remove the scope the IdP does not know from session.login.scopes (${login.scopes.join(' ')})`
            : a.code === 'unauthorized_client'
              ? 'allow the authorization code grant for this client at the IdP'
              : "see the IdP's error description",
        ),
      );
      break;
    default:
      out.push(
        finding.warning(
          'login.authorize',
          subject,
          'the IdP answered in a way the doctor does not recognise',
          evidence + (a.vendor ? '' : `\n${a.message}`),
          "try the sign-in in a browser; the IdP's page names the problem",
        ),
      );
  }
  return out;
}

function cookieFinding(ctx: DoctorContext, origin: string, cookie: string): Finding {
  const subject = 'server.external_url';
  const u = new URL(origin);
  const listeners = ctx.config.server.listeners;
  const tls = listeners.some((l) => l.tls !== undefined);
  if (u.protocol === 'http:' && !LOOPBACK.test(u.hostname))
    return finding.warning(
      'login.cookies',
      subject,
      'sessions over plain http (session.insecure_http_cookies): the session cookie has no Secure flag and travels in clear text',
      `server.external_url ${origin}; cookie ${cookie}`,
      'for anything but local development, serve Gatehouse over https (a listener with tls, or a TLS-terminating proxy in server.trusted_proxies) and set server.external_url to https://…',
    );
  if (u.protocol === 'https:' && !tls && ctx.config.server.trusted_proxies.length === 0)
    return finding.warning(
      'login.cookies',
      subject,
      'external_url is https but no listener serves TLS and no trusted proxy is configured',
      `server.external_url ${origin}; listeners: ${listeners.map((l) => `${l.address}:${l.port} (http)`).join(', ')}; cookie ${cookie} is Secure`,
      'browsers that reach Gatehouse over http:// never send the Secure session cookie back, so login loops: add tls to a listener, or list the TLS-terminating proxy in server.trusted_proxies',
    );
  return finding.ok(
    'login.cookies',
    subject,
    `the session cookie ${cookie} fits the scheme of server.external_url`,
    origin,
  );
}
