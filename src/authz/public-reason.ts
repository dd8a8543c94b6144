import type { ErrorCode, PublicReason } from '../errors/index.js';
import type { Decision } from '../pipeline/decision.js';
import type { Principal } from '../pipeline/principal.js';

/**
 * Client-safe reasons for refusals: a stable code and a sentence that names only what the
 * route's rules name (the group, role or scope a rule requires) — never a token, a secret, the
 * rule's name or a claim the rules do not test. The codes are documented in docs/pages.md.
 */

const MISSING: readonly [prefix: string, code: string, noun: string][] = [
  ['group.missing:', 'group_required', 'membership of group'],
  ['role.missing:', 'role_required', 'the role'],
  ['scope.missing:', 'scope_required', 'the scope'],
];

function list(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1] as string}`;
}

/** How the request is authenticated, as its user would recognise it. */
export function displayUser(p: Principal | undefined): string | undefined {
  if (p === undefined) return undefined;
  if (p.kind === 'client') return p.clientId ?? p.subject;
  return p.email ?? p.name ?? p.subject;
}

/**
 * The public reason of a denied decision. `ctxReasons` are the request's reason codes
 * (`session.unknown` when a session cookie named no live session).
 */
export function publicReasonOf(
  decision: Decision,
  p: Principal | undefined,
  ctxReasons: readonly string[] = [],
): PublicReason {
  const user = displayUser(p);
  if (p === undefined) {
    if (ctxReasons.includes('session.unknown') || ctxReasons.includes('session.cookie_ambiguous'))
      return { code: 'session_expired', text: 'Your session has expired or was ended. Sign in again.' };
    return { code: 'authentication_required', text: 'This page needs you to sign in.' };
  }
  const reasons = decision.reasons;
  if (reasons.includes('rule.deny'))
    return {
      code: 'denied_by_rule',
      text: 'An access rule of this application refuses your account here.',
      user,
    };
  if (reasons.includes('groups.overage'))
    return {
      code: 'groups_overage',
      text: 'Your identity provider did not list your groups (you are in too many), so group membership cannot be checked.',
      user,
    };
  const needs: string[] = [];
  let code: string | undefined;
  for (const [prefix, c, noun] of MISSING) {
    const names = reasons.filter((r) => r.startsWith(prefix)).map((r) => r.slice(prefix.length));
    if (names.length === 0) continue;
    code ??= c;
    needs.push(`${noun}${names.length > 1 ? 's' : ''} ${list(names)}`);
  }
  if (code !== undefined) return { code, text: `This page needs ${list(needs)}.`, user };
  return { code: 'not_allowed', text: 'No access rule of this application allows your account here.', user };
}

const BY_CODE: Partial<Record<ErrorCode, PublicReason>> = {
  GH_TOKEN_EXPIRED: { code: 'credential_expired', text: 'Your access token has expired.' },
  GH_TOKEN_NOT_YET_VALID: { code: 'credential_not_yet_valid', text: 'Your access token is not valid yet.' },
  GH_TOKEN_LIFETIME: { code: 'credential_invalid', text: 'Your access token is valid for too long.' },
  GH_TOKEN_MALFORMED: { code: 'credential_invalid', text: 'The credential sent is not a valid token.' },
  GH_TOKEN_INVALID: { code: 'credential_invalid', text: 'The credential sent was not accepted.' },
  GH_TOKEN_ISSUER: {
    code: 'credential_wrong_issuer',
    text: 'The token was issued by a provider this application does not trust.',
  },
  GH_TOKEN_AUDIENCE: {
    code: 'credential_wrong_audience',
    text: 'The token was issued for another application.',
  },
  GH_TOKEN_TYPE: {
    code: 'credential_wrong_type',
    text: 'This kind of token is not accepted here (an access token is needed).',
  },
  GH_APIKEY_INVALID: { code: 'credential_invalid', text: 'The API key sent was not accepted.' },
  GH_CLIENT_CERT_INVALID: { code: 'certificate_invalid', text: 'Your client certificate was not accepted.' },
  GH_CLIENT_CERT_WEAK: {
    code: 'certificate_weak',
    text: 'Your client certificate uses a key or signature that is too weak.',
  },
  GH_SESSION_REQUIRED: {
    code: 'session_expired',
    text: 'Your session has expired or was ended. Sign in again.',
  },
};

/**
 * The public reason of an error: the one it carries (refusals built by `denyError`), else a
 * generic one for authentication failures by error code, else undefined.
 */
export function publicReasonOfError(err: {
  code: string;
  publicReason?: PublicReason | undefined;
}): PublicReason | undefined {
  return err.publicReason ?? (BY_CODE as Record<string, PublicReason | undefined>)[err.code];
}
