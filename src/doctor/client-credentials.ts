/**
 * `--client-credentials`: a token for the token checks, obtained with the login client's own
 * credentials (RFC 6749 §4.4) at the login provider's token endpoint, through its outbound route.
 * @module
 */
import { discoveryUrlFor } from '../authn/discovery.js';
import type { DoctorContext } from './context.js';
import { answerSummary, isFailure, jsonObject, probe } from './probe.js';
import { finding, type Finding } from './report.js';

/** Requests a token; returns it, or the finding that says why there is none. */
export async function clientCredentialsToken(
  ctx: DoctorContext,
  scope: string | undefined,
): Promise<{ token: string; finding: Finding } | { finding: Finding }> {
  const login = ctx.config.session?.login;
  const subject = 'session.login';
  if (!login || login.client_secret === undefined)
    return {
      finding: finding.error(
        'token.client_credentials',
        subject,
        '--client-credentials needs session.login with a client_id and client_secret',
        undefined,
        'configure session.login (client_secret from ${ENV}), or pass the token with --token',
      ),
    };
  const pcfg = ctx.config.providers?.[login.provider];
  const dispatcher = ctx.dispatcherFor(login.provider);
  let endpoint = ctx.discovered.get(login.provider)?.doc.token_endpoint;
  if (endpoint === undefined && pcfg) {
    const r = await probe(pcfg.discovery_url ?? discoveryUrlFor(pcfg.issuer), {
      dispatcher,
      timeoutMs: ctx.timeoutMs,
    });
    endpoint = !isFailure(r) && r.status === 200 ? jsonObject(r.body)?.token_endpoint : undefined;
  }
  if (typeof endpoint !== 'string')
    return {
      finding: finding.error(
        'token.client_credentials',
        subject,
        'no token endpoint: the discovery document of the login provider cannot be read',
        undefined,
        `see provider.discovery for providers.${login.provider}`,
      ),
    };
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (scope !== undefined) form.set('scope', scope);
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (login.token_endpoint_auth_method === 'client_secret_post') {
    form.set('client_id', login.client_id);
    form.set('client_secret', login.client_secret);
  } else {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(login.client_id)}:${enc(login.client_secret)}`).toString('base64')}`;
  }
  const r = await probe(endpoint, {
    dispatcher,
    timeoutMs: ctx.timeoutMs,
    method: 'POST',
    headers,
    body: form.toString(),
  });
  const body = isFailure(r) ? undefined : jsonObject(r.body);
  const token = body?.access_token;
  if (isFailure(r) || r.status !== 200 || typeof token !== 'string') {
    const err =
      body?.error === undefined
        ? ''
        : ` ${String(body.error)}${body.error_description ? `: ${String(body.error_description)}` : ''}`;
    return {
      finding: finding.error(
        'token.client_credentials',
        subject,
        'the IdP did not issue a token for the client credentials',
        `POST ${endpoint} (grant_type=client_credentials${scope ? `, scope=${scope}` : ''}): ${answerSummary(r)}${err}`,
        body?.error === 'invalid_client'
          ? 'check session.login.client_id / client_secret (an expired secret is the usual cause)'
          : 'allow the client credentials grant for this client at the IdP, or pass a token with --token (Entra ID: scope api://<app-id>/.default)',
      ),
    };
  }
  return {
    token,
    finding: finding.ok(
      'token.client_credentials',
      subject,
      'the IdP issued a token for the login client',
      `POST ${endpoint}: HTTP 200${scope ? ` (scope ${scope})` : ''}`,
    ),
  };
}
