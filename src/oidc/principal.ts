import { createHash } from 'node:crypto';
import { withMemo, type Principal } from '../pipeline/principal.js';

/** Maps verified claims to a {@link Principal}; the provider's mapping (same as bearer tokens). */
export type ClaimMapper = (
  claims: Readonly<Record<string, unknown>>,
) => Omit<Principal, 'provider' | 'method' | 'credentialId' | 'expiresAt'>;

/** Claims that only concern the login exchange itself and are not kept in a session. */
const EPHEMERAL_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash'];

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function strings(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  if (typeof v === 'string' && v !== '') return v.split(/[\s,]+/).filter(Boolean);
  return [];
}

/**
 * Plain OpenID Connect claim mapping (the runtime uses the provider's preset mapping from
 * src/authn instead; this one serves tests and tools without a provider config): `sub`,
 * `name`/`preferred_username`, `email`, `groups`, `roles`, `tid` (Entra tenant), and the Entra
 * groups-overage marker (`_claim_names.groups`).
 */
export const defaultClaimMapper: ClaimMapper = (claims) => {
  const names = claims._claim_names;
  return {
    kind: 'user',
    subject: String(claims.sub ?? ''),
    issuer: str(claims.iss),
    name: str(claims.name) ?? str(claims.preferred_username),
    email: str(claims.email),
    groups: strings(claims.groups),
    roles: strings(claims.roles),
    scopes: [],
    clientId: str(claims.azp),
    tenant: str(claims.tid),
    groupsOverage:
      names !== null && typeof names === 'object' && Object.hasOwn(names, 'groups') ? true : undefined,
    claims,
  };
};

/**
 * The groups kept for a session: all of them when there are at most `max`; otherwise only those
 * that rules reference (when any do), capped at `max`. Keeps stored sessions and forwarded
 * identity headers small for users in hundreds of groups.
 */
export function filterGroups(
  groups: readonly string[],
  max: number,
  referenced: ReadonlySet<string>,
): readonly string[] {
  if (groups.length <= max) return groups;
  const kept = referenced.size > 0 ? groups.filter((g) => referenced.has(g)) : groups;
  return kept.length > max ? kept.slice(0, max) : kept;
}

/**
 * Builds the principal stored in a session from ID token (+ userinfo) claims: the provider's
 * claim mapping, then the group filter. `sessionId` is hashed into `credentialId`, never stored.
 */
export function sessionPrincipal(
  claims: Record<string, unknown>,
  mapper: ClaimMapper,
  opts: {
    provider: string;
    sessionId: string;
    expiresAt: number;
    maxGroups: number;
    referencedGroups: ReadonlySet<string>;
  },
): Principal {
  const kept: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(claims)) if (!EPHEMERAL_CLAIMS.includes(k)) kept[k] = v;
  const base = mapper(kept);
  const groups = filterGroups(base.groups, opts.maxGroups, opts.referencedGroups);
  if (groups !== base.groups && Array.isArray(kept.groups)) kept.groups = [...groups];
  // A copy of the mapped principal carries no memo (the slot is not enumerable): a fresh one.
  return withMemo({
    ...base,
    groups,
    claims: kept,
    provider: opts.provider,
    method: 'session',
    expiresAt: Math.floor(opts.expiresAt / 1000),
    credentialId: credentialId(opts.sessionId),
  });
}

/** A short hash of a session id for audit events (`credential_id`): never the id itself. */
export function credentialId(sessionId: string): string {
  return `s:${createHash('sha256').update(sessionId).digest('base64url').slice(0, 12)}`;
}

type Criterion = Readonly<Record<string, unknown>>;

function collect(c: unknown, out: Set<string>): void {
  if (c === null || typeof c !== 'object') return;
  const o = c as Criterion;
  if (typeof o.group === 'string') out.add(o.group);
  for (const k of ['groups_any', 'groups_all']) for (const g of strings(o[k])) out.add(g);
  for (const k of ['all', 'any']) if (Array.isArray(o[k])) for (const s of o[k] as unknown[]) collect(s, out);
  collect(o.not, out);
}

/**
 * Every group name that access rules reference (`group`, `groups_any`, `groups_all` in
 * `policies` and route `rules`), computed once at load for {@link filterGroups}.
 */
export function referencedGroups(config: {
  readonly policies?: unknown;
  readonly routes: readonly unknown[];
}): ReadonlySet<string> {
  const out = new Set<string>();
  const rulesOf = (rules: unknown) => {
    if (Array.isArray(rules)) for (const r of rules) collect((r as { when?: unknown }).when, out);
  };
  const policies = (config as { policies?: Record<string, { rules?: unknown }> }).policies;
  if (policies) for (const p of Object.values(policies)) rulesOf(p.rules);
  for (const r of config.routes) rulesOf((r as { rules?: unknown }).rules);
  return out;
}
