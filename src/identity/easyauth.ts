import type { Principal } from '../pipeline/principal.js';

/**
 * Azure App Service Authentication ("Easy Auth") compatibility: the `X-MS-CLIENT-PRINCIPAL*`
 * headers App Service injects for Entra ID, so ASP.NET apps written for App Service run
 * unchanged. Claim types follow the default inbound claim mapping App Service applies
 * (the .NET `JwtSecurityTokenHandler` map); see docs/legacy-apps.md for the table.
 */

const XMLSOAP = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/';
const MSID = 'http://schemas.microsoft.com/identity/claims/';

/** Role claim type (`ClaimTypes.Role`), also the principal's `role_typ`. */
export const ROLE_TYP = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
/** Email claim type (`ClaimTypes.Email`), the `name_typ` when the principal has an email. */
export const EMAIL_TYP = `${XMLSOAP}emailaddress`;

/** JWT claim name → claim type App Service puts in `X-MS-CLIENT-PRINCIPAL` (Entra ID). */
export const EASY_AUTH_CLAIM_TYPES: Readonly<Record<string, string>> = {
  oid: `${MSID}objectidentifier`,
  sub: `${XMLSOAP}nameidentifier`,
  email: EMAIL_TYP,
  tid: `${MSID}tenantid`,
  roles: ROLE_TYP,
  role: ROLE_TYP,
  scp: `${MSID}scope`,
  given_name: `${XMLSOAP}givenname`,
  family_name: `${XMLSOAP}surname`,
  upn: `${XMLSOAP}upn`,
  unique_name: `${XMLSOAP}name`,
  idp: `${MSID}identityprovider`,
  amr: 'http://schemas.microsoft.com/claims/authnmethodsreferences',
};

/** The decoded `X-MS-CLIENT-PRINCIPAL` document. */
export interface ClientPrincipalDocument {
  readonly auth_typ: string;
  readonly claims: { typ: string; val: string }[];
  readonly name_typ: string;
  readonly role_typ: string;
}

function str(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Builds the `X-MS-CLIENT-PRINCIPAL` document; every `val` is a string, lists become one claim per item. */
export function clientPrincipalDocument(p: Principal, authTyp: string): ClientPrincipalDocument {
  const claims: { typ: string; val: string }[] = [];
  const seen = new Set<string>();
  const add = (name: string, v: unknown): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const typ = EASY_AUTH_CLAIM_TYPES[name] ?? name;
    if (Array.isArray(v)) {
      for (const item of v) {
        const s = str(item);
        if (s !== undefined) claims.push({ typ, val: s });
      }
      return;
    }
    const s = str(v);
    if (s !== undefined) claims.push({ typ, val: s });
  };
  for (const [k, v] of Object.entries(p.claims)) {
    if (k === 'scp' && typeof v === 'string') add(k, v);
    else if (k !== 'roles' && k !== 'groups' && k !== 'role') add(k, v);
  }
  add('sub', p.subject);
  if (p.email !== undefined) add('email', p.email);
  if (p.name !== undefined) add('name', p.name);
  if (p.tenant !== undefined) add('tid', p.tenant);
  add('roles', p.roles);
  add('groups', p.groups);
  return {
    auth_typ: authTyp,
    claims,
    name_typ:
      p.email !== undefined
        ? EMAIL_TYP
        : typeof p.claims.preferred_username === 'string'
          ? 'preferred_username'
          : 'name',
    role_typ: ROLE_TYP,
  };
}

/** `X-MS-CLIENT-PRINCIPAL-ID`: the Entra object id (`oid`) when present, else the subject. */
export function clientPrincipalId(p: Principal): string {
  const oid = p.claims.oid;
  return typeof oid === 'string' && oid !== '' ? oid : p.subject;
}

/** `X-MS-CLIENT-PRINCIPAL-NAME`: preferred_username, email, upn, name, then the subject. */
export function clientPrincipalName(p: Principal): string {
  const c = p.claims;
  for (const v of [c.preferred_username, p.email, c.upn, p.name])
    if (typeof v === 'string' && v !== '') return v;
  return p.subject;
}

/** The base64 (standard alphabet, padded, as App Service sends it) `X-MS-CLIENT-PRINCIPAL` value. */
export function encodeClientPrincipal(p: Principal, authTyp: string): string {
  return Buffer.from(JSON.stringify(clientPrincipalDocument(p, authTyp)), 'utf8').toString('base64');
}
