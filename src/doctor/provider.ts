/**
 * Provider checks: discovery reachable, its `issuer` exactly the configured one, the JWKS
 * reachable and usable, algorithms offered vs allowed, and the clock of this machine against
 * the IdP's `Date` header.
 * @module
 */
import { discoveryUrlFor } from '../authn/discovery.js';
import type { ProviderConfig } from '../authn/schema.js';
import type { DoctorContext } from './context.js';
import { diagnoseIssuer } from './issuer.js';
import { keyFindings } from './keys.js';
import { answerSummary, isFailure, jsonObject, probe, type ProbeAnswer, type ProbeFailure } from './probe.js';
import { finding, humanDuration, type Finding } from './report.js';

/** Runs the provider checks for every configured provider, in config order. */
export async function checkProviders(ctx: DoctorContext): Promise<Finding[]> {
  const providers = Object.entries(ctx.config.providers ?? {});
  const results = await Promise.all(providers.map(([name, cfg]) => checkProvider(ctx, name, cfg)));
  return results.flat();
}

function usesDiscovery(ctx: DoctorContext, name: string, cfg: ProviderConfig): boolean {
  return (
    (cfg.discovery ?? cfg.jwks_uri === undefined) ||
    cfg.discovery_url !== undefined ||
    ctx.config.session?.login.provider === name
  );
}

function needsKeys(cfg: ProviderConfig): boolean {
  return cfg.token_type !== 'opaque' && cfg.algorithms.some((a) => !a.startsWith('HS'));
}

/** Hints for a discovery document that cannot be fetched, by how it failed. */
function discoveryFix(subject: string, r: ProbeAnswer | ProbeFailure): string {
  if (isFailure(r)) {
    if (r.code === 'ETIMEDOUT' || r.code === 'UND_ERR_CONNECT_TIMEOUT')
      return `the IdP did not answer in time: check the network path, a firewall, or the outbound proxy (${subject}.proxy or HTTPS_PROXY)`;
    if (/CERT|SELF_SIGNED|UNABLE_TO/.test(r.code))
      return `the IdP's TLS certificate is not trusted: set ${subject}.ca to the PEM bundle of its CA (or of the TLS-inspecting proxy)`;
    if (r.code === 'ENOTFOUND' || r.code === 'EAI_AGAIN')
      return `the host name does not resolve: check ${subject}.issuer (or discovery_url) and DNS`;
    return `the IdP cannot be reached: check that it runs, the URL in ${subject}.issuer (or discovery_url), and the outbound proxy settings`;
  }
  if (r.status === 404)
    return `nothing at that URL: check ${subject}.issuer — Entra ID: https://login.microsoftonline.com/<tenant-id>/v2.0; Keycloak: https://host/realms/<realm>; Okta: https://<org>.okta.com/oauth2/default; or set discovery_url`;
  if (r.status >= 500)
    return 'the IdP answered with a server error: it is down or overloaded; tokens verified with held keys keep working until jwks_stale runs out';
  return `the discovery URL does not answer with a document: check ${subject}.issuer or discovery_url`;
}

async function checkProvider(ctx: DoctorContext, name: string, cfg: ProviderConfig): Promise<Finding[]> {
  const subject = `providers.${name}`;
  const out: Finding[] = [];
  const dispatcher = ctx.dispatcherFor(name);
  const get = (url: string) =>
    probe(url, { dispatcher, timeoutMs: ctx.timeoutMs, headers: { accept: 'application/json' } });
  let doc: Record<string, unknown> | undefined;
  let clockFrom: ProbeAnswer | undefined;
  if (usesDiscovery(ctx, name, cfg)) {
    const url = cfg.discovery_url ?? discoveryUrlFor(cfg.issuer);
    const r = await get(url);
    doc = isFailure(r) || r.status !== 200 ? undefined : jsonObject(r.body);
    if (!isFailure(r)) clockFrom = r;
    if (!doc) {
      out.push(
        finding.error(
          'provider.discovery',
          subject,
          'the discovery document cannot be fetched',
          `GET ${url}: ${answerSummary(r)}${!isFailure(r) && r.status === 200 ? ' (not a JSON object)' : ''}`,
          discoveryFix(subject, r),
        ),
      );
    } else {
      ctx.discovered.set(name, { url, doc });
      out.push(
        finding.ok('provider.discovery', subject, 'discovery document reachable', `GET ${url}: HTTP 200`),
      );
      out.push(issuerFinding(subject, cfg.issuer, doc.issuer, url));
    }
  }
  if (needsKeys(cfg)) {
    const jwksUri = cfg.jwks_uri ?? (typeof doc?.jwks_uri === 'string' ? doc.jwks_uri : undefined);
    if (jwksUri === undefined) {
      if (doc)
        out.push(
          finding.error(
            'provider.jwks',
            subject,
            'the discovery document names no jwks_uri',
            `discovery of ${subject} has no "jwks_uri"`,
            `set ${subject}.jwks_uri to the IdP's key set URL`,
          ),
        );
    } else {
      const r = await get(jwksUri);
      if (!isFailure(r)) clockFrom ??= r;
      const body = !isFailure(r) && r.status === 200 ? jsonObject(r.body) : undefined;
      if (!body)
        out.push(
          finding.error(
            'provider.jwks',
            subject,
            'the JWKS cannot be fetched',
            `GET ${jwksUri}: ${answerSummary(r)}`,
            isFailure(r) || r.status !== 200
              ? discoveryFix(subject, r).replace('discovery URL', 'JWKS URL')
              : 'the URL does not answer with a JSON key set: check jwks_uri',
          ),
        );
      else out.push(...keyFindings(subject, cfg, body, doc, jwksUri));
    }
  }
  if (clockFrom) out.push(clockFinding(subject, cfg, clockFrom));
  return out;
}

function issuerFinding(subject: string, configured: string, actual: unknown, url: string): Finding {
  if (actual === configured)
    return finding.ok(
      'provider.issuer',
      subject,
      'the IdP names exactly the configured issuer',
      `"${configured}"`,
    );
  if (typeof actual !== 'string')
    return finding.error(
      'provider.issuer',
      subject,
      'the discovery document names no issuer',
      `${url}: issuer ${JSON.stringify(actual)}`,
      `check that ${url} is an OpenID Connect discovery document`,
    );
  const d = diagnoseIssuer(configured, actual, `${subject}.issuer`);
  return finding.error(
    'provider.issuer',
    subject,
    `issuer mismatch: ${d.label}`,
    `configured: "${configured}"\nIdP says:   "${actual}" (${url})`,
    d.fix,
  );
}

function clockFinding(subject: string, cfg: ProviderConfig, r: ProbeAnswer): Finding {
  const date = r.headers.date;
  const theirs = date === undefined ? NaN : Date.parse(date);
  if (Number.isNaN(theirs))
    return finding.warning(
      'provider.clock',
      subject,
      'the IdP sent no usable Date header: clock skew not measured',
      `Date: ${JSON.stringify(date)}`,
      'make sure this machine syncs its clock (NTP / w32time)',
    );
  // Date has one-second resolution: the IdP's clock was somewhere in [theirs, theirs + 1 s)
  // while it answered, between our send and receive times.
  const ours = (r.sentAt + r.receivedAt) / 2;
  const skew = ours - (theirs + 500);
  const tolerance = 500 + (r.receivedAt - r.sentAt) / 2;
  const beyond = Math.max(0, Math.abs(skew) - tolerance);
  const dir = skew > 0 ? 'ahead of' : 'behind';
  const evidence = `this machine is ${humanDuration(skew)} ${dir} the IdP (Date: ${date}); clock_skew: ${humanDuration(cfg.clock_skew)}`;
  const fix =
    "synchronise the clock of this machine (systemd-timesyncd / chrony; Windows: w32tm /resync) — or the IdP's; raising clock_skew only hides it";
  if (beyond > cfg.clock_skew)
    return finding.error(
      'provider.clock',
      subject,
      `clock skew with the IdP exceeds clock_skew: fresh tokens look ${skew > 0 ? 'expired too early' : 'not yet valid'}`,
      evidence,
      fix,
    );
  if (beyond > cfg.clock_skew / 2)
    return finding.warning(
      'provider.clock',
      subject,
      'clock skew with the IdP is more than half of clock_skew',
      evidence,
      fix,
    );
  return finding.ok('provider.clock', subject, 'clocks agree within clock_skew', evidence);
}
