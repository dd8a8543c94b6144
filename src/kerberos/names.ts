/**
 * Account names that may reach `kvno -U` and a credential-cache file name. Strict on purpose:
 * letters, digits, `.`, `_`, `-` (never first: no option injection, no path), at most 64
 * characters; the realm upper-case. Anything else is refused before a process is spawned.
 */
const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const REALM = /^[A-Z0-9][A-Z0-9.-]{0,252}$/;

/** A user principal Gatehouse may ask tickets for: `account@REALM`. */
export interface UserPrincipal {
  readonly account: string;
  readonly realm: string;
  /** `account@REALM`, the name given to kvno and to GSS-API. */
  readonly name: string;
}

/**
 * Parses a mapped name: `alice` (the configured realm is appended) or `alice@CORP.EXAMPLE`
 * (the realm must be the configured one, compared case-insensitively). Returns a reason string
 * when the name is not acceptable.
 */
export function userPrincipal(mapped: string, realm: string): UserPrincipal | string {
  const at = mapped.lastIndexOf('@');
  const account = at < 0 ? mapped : mapped.slice(0, at);
  const r = at < 0 ? realm : mapped.slice(at + 1).toUpperCase();
  if (!ACCOUNT.test(account))
    return 'not a valid account name (letters, digits, ".", "_", "-"; at most 64 characters)';
  if (!REALM.test(r)) return 'not a valid realm';
  if (r !== realm) return `realm ${r} is not the configured realm ${realm}`;
  return Object.freeze({ account, realm, name: `${account}@${realm}` });
}

/** The realm of `name@REALM` (the schema guarantees the shape). */
export function realmOf(principal: string): string {
  return principal.slice(principal.lastIndexOf('@') + 1);
}
