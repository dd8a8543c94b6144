import { BlockList, isIP } from 'node:net';
import type { Principal } from '../pipeline/principal.js';
import type { CriterionInput } from './schema.js';
import { compileClaimPath, formatClaimPath, readClaim } from './claims.js';
import { NO_ID, leaf, q, type Criterion, type Test } from './criterion.js';

/** Strict e-mail parsing: exactly one `@`, non-empty local part, a DNS domain. Lower-cased domain or undefined. */
export function emailDomain(email: string): string | undefined {
  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@') || at === email.length - 1) return undefined;
  if (EMAIL_FORBIDDEN.test(email)) return undefined;
  const domain = email.slice(at + 1).toLowerCase();
  return DNS_NAME.test(domain) ? domain : undefined;
}
const EMAIL_FORBIDDEN = /[\s"\\(),:;<>[\]\x00-\x1f\x7f]/;
const DNS_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** An IdP that says the address is unverified (`email_verified: false`) disqualifies it. */
export function emailUnverified(p: Principal): boolean {
  const v = p.claims['email_verified'];
  return v === false || v === 'false';
}

/** `group`/`groups_any`/`groups_all` and the role and scope equivalents. */
export function membership(
  kind: 'group' | 'role' | 'scope',
  mode: 'one' | 'any' | 'all',
  wanted: readonly string[],
): Criterion {
  const pick: (p: Principal) => readonly string[] =
    kind === 'group' ? (p) => p.groups : kind === 'role' ? (p) => p.roles : (p) => p.scopes;
  const n = wanted.length;
  const first = wanted[0] as string;
  let test: Test;
  if (n === 1) test = (p) => p !== undefined && pick(p).includes(first);
  else if (mode === 'all') {
    test = (p) => {
      if (p === undefined) return false;
      const have = pick(p);
      for (let i = 0; i < n; i++) if (!have.includes(wanted[i] as string)) return false;
      return true;
    };
  } else {
    test = (p) => {
      if (p === undefined) return false;
      const have = pick(p);
      for (let i = 0; i < n; i++) if (have.includes(wanted[i] as string)) return true;
      return false;
    };
  }
  const missing = (p: Principal | undefined) =>
    p === undefined ? [...wanted] : wanted.filter((w) => !pick(p).includes(w));
  const key = mode === 'one' ? kind : `${kind}s_${mode}`;
  return leaf({
    label: `${key} ${q(mode === 'one' ? wanted[0] : wanted)}`,
    identity: true,
    test,
    observed: (p) =>
      p === undefined
        ? NO_ID
        : `${kind}s: ${q(pick(p))}${kind === 'group' && p.groupsOverage ? ' (groups overage: the token does not list the groups)' : ''}`,
    hints: (p, out) => {
      if (kind === 'group' && p?.groupsOverage) out.push('groups.overage');
      for (const m of missing(p)) out.push(`${kind}.missing:${m}`);
    },
    missingScopes: kind === 'scope' ? missing : undefined,
  });
}

/** A string field of the principal in a fixed set. */
export function stringIn(
  label: string,
  values: readonly string[],
  get: (p: Principal) => string | undefined,
): Criterion {
  const set = new Set(values);
  return leaf({
    label: `${label} ${q(values.length === 1 ? values[0] : values)}`,
    identity: true,
    test: (p) => {
      if (p === undefined) return false;
      const v = get(p);
      return v !== undefined && set.has(v);
    },
    observed: (p) => (p === undefined ? NO_ID : `${label}: ${q(get(p))}`),
  });
}

/** What the trace shows about the e-mail address. */
export function emailObserved(p: Principal | undefined): string {
  if (p === undefined) return NO_ID;
  if (p.email === undefined) return 'no email in the identity';
  const parts = [`email: ${q(p.email)}`];
  if (emailDomain(p.email) === undefined) parts.push('(not a well-formed single-@ address)');
  if (emailUnverified(p)) parts.push('(email_verified is false)');
  return parts.join(' ');
}

/** `claim: {path, equals | one_of | contains | exists}`. */
export function claimCriterion(c: NonNullable<CriterionInput['claim']>): Criterion {
  const path = compileClaimPath(c.path);
  const shown = formatClaimPath(path);
  let op: string;
  let check: (v: unknown) => boolean;
  if (c.equals !== undefined) {
    const want = c.equals;
    op = `equals ${q(want)}`;
    check = (v) => v === want;
  } else if (c.one_of !== undefined) {
    const set = new Set<unknown>(c.one_of);
    op = `one_of ${q(c.one_of)}`;
    check = (v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && set.has(v);
  } else if (c.contains !== undefined) {
    const want = c.contains;
    op = `contains ${q(want)}`;
    check = (v) => Array.isArray(v) && v.includes(want);
  } else {
    const want = c.exists === true;
    op = want ? 'exists' : 'is absent';
    check = (v) => (v !== undefined && v !== null) === want;
  }
  return leaf({
    label: `claim ${shown} ${op}`,
    identity: true,
    test: (p) => p !== undefined && check(readClaim(p.claims, path)),
    observed: (p) => (p === undefined ? NO_ID : `${shown}: ${q(readClaim(p.claims, path))}`),
  });
}

/** `path_prefix`: the normalised path is the prefix or below it (segment boundary). */
export function pathPrefix(prefixes: readonly string[]): Criterion {
  const exact = prefixes.map((x) => (x.length > 1 && x.endsWith('/') ? x.slice(0, -1) : x));
  const lower = exact.map((x) => x.toLowerCase());
  const under = (path: string, list: readonly string[]) => {
    for (const pre of list) {
      if (pre === '/' || path === pre || (path.startsWith(pre) && path.charCodeAt(pre.length) === 47))
        return true;
    }
    return false;
  };
  return leaf({
    label: `path_prefix ${q(prefixes.length === 1 ? prefixes[0] : prefixes)}`,
    identity: false,
    test: (_p, r) => (r.route?.caseInsensitive ? under(r.path.toLowerCase(), lower) : under(r.path, exact)),
    observed: (_p, r) => `path: ${q(r.path)}`,
  });
}

const SOURCE_IP_MEMO = 4096;

/** `source_ip`: a BlockList built once. */
export function sourceIp(cidrs: readonly string[]): Criterion {
  const list = new BlockList();
  for (const c of cidrs) {
    const slash = c.indexOf('/');
    const ip = slash < 0 ? c : c.slice(0, slash);
    const fam = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    const bits = slash < 0 ? (fam === 'ipv6' ? 128 : 32) : Number(c.slice(slash + 1));
    list.addSubnet(ip, bits, fam);
  }
  // BlockList.check costs microseconds (it builds a SocketAddress); clients repeat, so
  // remember recent answers in a bounded map, cleared when full.
  const seen = new Map<string, boolean>();
  const check = (ip: string): boolean => {
    let hit = seen.get(ip);
    if (hit === undefined) {
      const fam = isIP(ip);
      hit = fam !== 0 && list.check(ip, fam === 6 ? 'ipv6' : 'ipv4');
      if (seen.size >= SOURCE_IP_MEMO) seen.clear();
      seen.set(ip, hit);
    }
    return hit;
  };
  return leaf({
    label: `source_ip ${q(cidrs.length === 1 ? cidrs[0] : cidrs)}`,
    identity: false,
    test: (_p, r) => check(r.clientIp),
    observed: (_p, r) => `client ip: ${r.clientIp}`,
  });
}
