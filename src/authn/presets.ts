import type { ProviderConfig } from './schema.js';

type Claims = Readonly<Record<string, unknown>>;

/** Where one principal field comes from: claim paths, first present wins (lists: union). */
export interface FieldPaths {
  readonly subject: readonly string[];
  readonly name: readonly string[];
  readonly email: readonly string[];
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly clientId: readonly string[];
  readonly tenant: readonly string[];
}

/** A preset: claim paths plus the few rules that are not plain paths. */
export interface Preset {
  readonly paths: FieldPaths;
  /** `client` for machine tokens (client credentials), else `user`. */
  kind(claims: Claims, subject: string, clientId: string | undefined): 'user' | 'client';
  /** True when the IdP signalled an incomplete group list. */
  overage?(claims: Claims): boolean;
}

const SCOPES = ['scp', 'scope'];

const generic: Preset = {
  paths: {
    subject: ['sub'],
    name: ['name', 'preferred_username'],
    email: ['email'],
    groups: ['groups'],
    roles: ['roles'],
    scopes: SCOPES,
    clientId: ['azp', 'client_id', 'cid', 'appid'],
    tenant: [],
  },
  // RFC 9068 §2.2: without a resource owner, `sub` is the client's own identifier.
  kind: (_c, sub, cid) => (cid !== undefined && sub === cid ? 'client' : 'user'),
};

const entra: Preset = {
  paths: {
    subject: ['oid', 'sub'],
    name: ['name', 'preferred_username'],
    email: ['email', 'upn'],
    groups: ['groups'],
    roles: ['roles'],
    scopes: SCOPES,
    clientId: ['azp', 'appid'],
    tenant: ['tid'],
  },
  // App-only tokens: `idtyp: app` (optional claim), or no delegated `scp` at all.
  kind: (c) => (c.idtyp === 'app' || (c.idtyp !== 'user' && c.scp === undefined) ? 'client' : 'user'),
  overage: (c) => {
    const names = c._claim_names;
    return c.hasgroups === true || (typeof names === 'object' && names !== null && 'groups' in names);
  },
};

const okta: Preset = {
  paths: { ...generic.paths, clientId: ['cid', 'client_id'], tenant: [] },
  kind: (_c, sub, cid) => (cid !== undefined && sub === cid ? 'client' : 'user'),
};

function auth0(ns: string): Preset {
  return {
    paths: {
      subject: ['sub'],
      name: [`${ns}name`, 'name'],
      email: [`${ns}email`, 'email'],
      groups: [`${ns}groups`],
      roles: [`${ns}roles`],
      scopes: ['scope', 'permissions'],
      clientId: ['azp', 'client_id'],
      tenant: [`${ns}tenant`, 'org_id'],
    },
    kind: (c, sub) => (c.gty === 'client-credentials' || sub.endsWith('@clients') ? 'client' : 'user'),
  };
}

function keycloak(clients: readonly string[]): Preset {
  return {
    paths: {
      subject: ['sub'],
      name: ['name', 'preferred_username'],
      email: ['email'],
      groups: ['groups'],
      roles: ['realm_access.roles', ...clients.map((c) => `resource_access.${c}.roles`)],
      scopes: SCOPES,
      clientId: ['azp', 'client_id'],
      tenant: [],
    },
    kind: (c) =>
      typeof c.preferred_username === 'string' && c.preferred_username.startsWith('service-account-')
        ? 'client'
        : c.client_id !== undefined
          ? 'client'
          : 'user',
  };
}

const google: Preset = {
  paths: {
    subject: ['sub'],
    name: ['name'],
    email: ['email'],
    groups: [],
    roles: [],
    scopes: ['scope'],
    clientId: ['azp'],
    tenant: ['hd'],
  },
  kind: (c) => (typeof c.email === 'string' && c.email.endsWith('.gserviceaccount.com') ? 'client' : 'user'),
};

/** The preset for a provider, with its `claims:` overrides applied. */
export function presetFor(cfg: ProviderConfig): Preset {
  let base: Preset;
  switch (cfg.preset) {
    case 'entra':
    case 'entra_v1':
      base = entra;
      break;
    case 'okta':
      base = okta;
      break;
    case 'auth0':
      base = auth0(cfg.claims_namespace ?? '');
      break;
    case 'keycloak':
      base = keycloak(cfg.roles_client !== undefined ? [cfg.roles_client] : (cfg.audiences ?? []));
      break;
    case 'google':
      base = google;
      break;
    default:
      base = generic;
  }
  const o = cfg.claims;
  if (!o) return base;
  const pick = (v: string | undefined, d: readonly string[]) => (v === undefined ? d : [v]);
  return {
    ...base,
    paths: {
      subject: pick(o.subject, base.paths.subject),
      name: pick(o.name, base.paths.name),
      email: pick(o.email, base.paths.email),
      groups: pick(o.groups, base.paths.groups),
      roles: pick(o.roles, base.paths.roles),
      scopes: pick(o.scopes, base.paths.scopes),
      clientId: pick(o.client_id, base.paths.clientId),
      tenant: pick(o.tenant, base.paths.tenant),
    },
  };
}
