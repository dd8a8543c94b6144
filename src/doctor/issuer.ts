/**
 * Why two issuer strings differ, in the cases operators meet: a trailing slash, letter case,
 * http vs https, Entra ID v1 (`sts.windows.net`) vs v2 (`login.microsoftonline.com/…/v2.0`),
 * an Entra tenant name where the tenant id belongs, or simply another issuer.
 * @module
 */

/** The kind of difference between a configured issuer and the one an IdP (or token) names. */
export type IssuerMismatch =
  | 'trailing_slash'
  | 'letter_case'
  | 'scheme'
  | 'entra_v1_vs_v2'
  | 'entra_tenant_name'
  | 'entra_tenant'
  | 'other';

/** The case and a sentence saying what to change. */
export interface IssuerDiagnosis {
  readonly kind: IssuerMismatch;
  /** Short name of the case, for the finding's text. */
  readonly label: string;
  readonly fix: string;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface EntraIssuer {
  readonly version: 'v1' | 'v2';
  readonly tenant: string;
}

/** Parses an Entra ID issuer: v1 `https://sts.windows.net/{tenant}/`, v2 `https://login.microsoftonline.com/{tenant}/v2.0`. */
export function entraIssuer(iss: string): EntraIssuer | undefined {
  let u: URL;
  try {
    u = new URL(iss);
  } catch {
    return undefined;
  }
  const parts = u.pathname.split('/').filter((p) => p !== '');
  const host = u.hostname.toLowerCase();
  if (host === 'sts.windows.net' && parts.length === 1) return { version: 'v1', tenant: parts[0] as string };
  if (host.startsWith('login.microsoftonline.') && parts.length >= 1) {
    return { version: parts[1] === 'v2.0' ? 'v2' : 'v1', tenant: parts[0] as string };
  }
  return undefined;
}

const strip = (s: string): string => s.replace(/\/+$/, '');

/**
 * Diagnoses why `configured` (the config's `issuer`) is not `actual` (what the discovery
 * document or a token says). `where` names the key to change, e.g. `providers.entra.issuer`.
 */
export function diagnoseIssuer(configured: string, actual: string, where: string): IssuerDiagnosis {
  const set = `set ${where}: "${actual}"`;
  const ec = entraIssuer(configured);
  const ea = entraIssuer(actual);
  if (ec && ea) {
    if (ec.version !== ea.version) {
      const v1 = ea.version === 'v1';
      return {
        kind: 'entra_v1_vs_v2',
        label: `Entra ID ${ec.version} issuer configured, the IdP says ${ea.version}`,
        fix: v1
          ? `${set} with preset: entra_v1 — the app registration issues v1 tokens (manifest accessTokenAcceptedVersion null or 1); or set accessTokenAcceptedVersion: 2 in the app manifest to get v2 tokens and keep the v2 issuer`
          : `${set} with preset: entra — the app registration issues v2 tokens (manifest accessTokenAcceptedVersion 2); or set accessTokenAcceptedVersion to null in the manifest to get v1 tokens from sts.windows.net`,
      };
    }
    if (ec.tenant.toLowerCase() !== ea.tenant.toLowerCase()) {
      if (!GUID.test(ec.tenant) && GUID.test(ea.tenant))
        return {
          kind: 'entra_tenant_name',
          label: `tenant name "${ec.tenant}" configured where Entra ID puts the tenant id "${ea.tenant}"`,
          fix: `${set} — Entra ID issuers always carry the tenant id (a GUID), never the domain name; the name only works in the discovery URL`,
        };
      return {
        kind: 'entra_tenant',
        label: `another Entra ID tenant ("${ec.tenant}" configured, "${ea.tenant}" answered)`,
        fix: `check the tenant: tokens of tenant ${ea.tenant} are not tokens of ${ec.tenant}; ${set} only if that is the right tenant (multi-tenant "common"/"organizations" endpoints answer with a placeholder issuer, use the tenant's own id)`,
      };
    }
  }
  if (strip(configured) === strip(actual))
    return {
      kind: 'trailing_slash',
      label: 'the issuers differ only by a trailing slash',
      fix: `${set} — issuers are compared as exact strings (OpenID Connect Discovery §4.3), the slash matters`,
    };
  if (configured.toLowerCase() === actual.toLowerCase())
    return {
      kind: 'letter_case',
      label: 'the issuers differ only in letter case',
      fix: `${set} — issuers are compared as exact strings, letter case included`,
    };
  if (configured.replace(/^https?:/i, '') === actual.replace(/^https?:/i, ''))
    return {
      kind: 'scheme',
      label: 'the issuers differ in scheme (http vs https)',
      fix: `${set} — use exactly the scheme the IdP names (behind a TLS-terminating proxy, configure the IdP's public URL, e.g. Keycloak KC_HOSTNAME)`,
    };
  return {
    kind: 'other',
    label: 'the IdP names another issuer',
    fix: `${set} if this is the right IdP; otherwise correct the discovery URL (issuer or discovery_url)`,
  };
}
