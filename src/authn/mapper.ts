import { withMemo, type AuthMethod, type Principal } from '../pipeline/principal.js';
import { tokenError } from './errors.js';
import type { Preset } from './presets.js';
import type { Tracer } from './trace.js';

type Claims = Readonly<Record<string, unknown>>;
type Getter = (c: Claims) => unknown;

/** A claim path compiled once: the literal name first (Auth0 URLs contain dots), then a dotted walk. */
function compilePath(path: string): Getter {
  const parts = path.split('.');
  if (parts.length === 1) return (c) => (Object.hasOwn(c, path) ? c[path] : undefined);
  return (c) => {
    if (Object.hasOwn(c, path)) return c[path];
    let v: unknown = c;
    for (const p of parts) {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.hasOwn(v, p)) return undefined;
      v = (v as Record<string, unknown>)[p];
    }
    return v;
  };
}

const EMPTY: readonly string[] = Object.freeze([]);

function claimType(path: string, expected: string): never {
  throw tokenError('GH_TOKEN_INVALID', 'token.claim_type', `claim "${path}" must be ${expected}`);
}

/**
 * Characters that must never reach a header or a log line: C0 controls (CR, LF, NUL, TAB…), DEL,
 * C1 controls and the Unicode line and paragraph separators.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const BLANK = /^\s*$/;

/**
 * A claim that becomes a principal field (and so a header or log field) must be free of control
 * characters; identifiers must also be non-blank. Display fields (`name`, `email`) that are
 * blank count as absent.
 */
function safe(path: string, v: string, identifier: boolean, trace?: Tracer): string | undefined {
  if (CONTROL.test(v)) {
    trace?.('principal', false, `claim "${path}" contains control characters`);
    throw tokenError(
      'GH_TOKEN_INVALID',
      'token.claim_control',
      `claim "${path}" contains control characters`,
    );
  }
  if (!BLANK.test(v)) return v;
  if (!identifier) return undefined;
  trace?.('principal', false, `claim "${path}" is blank`);
  throw tokenError('GH_TOKEN_INVALID', 'token.claim_blank', `claim "${path}" is blank`);
}

/** Principal fields that identify someone: never blank. */
const IDENTIFIERS: ReadonlySet<string> = new Set(['subject', 'clientId', 'tenant']);

/** Maps verified claims onto a {@link Principal}; strict about types. Compiled once per provider. */
export class ClaimMapper {
  private readonly scalar: Record<
    'subject' | 'name' | 'email' | 'clientId' | 'tenant',
    Array<[string, Getter]>
  >;
  private readonly lists: Record<'groups' | 'roles' | 'scopes', Array<[string, Getter]>>;

  constructor(
    private readonly provider: string,
    private readonly preset: Preset,
  ) {
    const c = (ps: readonly string[]): Array<[string, Getter]> => ps.map((p) => [p, compilePath(p)]);
    const p = preset.paths;
    this.scalar = {
      subject: c(p.subject),
      name: c(p.name),
      email: c(p.email),
      clientId: c(p.clientId),
      tenant: c(p.tenant),
    };
    this.lists = { groups: c(p.groups), roles: c(p.roles), scopes: c(p.scopes) };
  }

  private str(claims: Claims, field: keyof ClaimMapper['scalar'], trace?: Tracer): string | undefined {
    for (const [path, get] of this.scalar[field]) {
      const v = get(claims);
      if (v === undefined) continue;
      if (typeof v !== 'string') claimType(path, 'a string');
      return safe(path, v, IDENTIFIERS.has(field), trace);
    }
    return undefined;
  }

  private list(claims: Claims, field: keyof ClaimMapper['lists'], trace?: Tracer): readonly string[] {
    let out: string[] | undefined;
    for (const [path, get] of this.lists[field]) {
      const v = get(claims);
      if (v === undefined) continue;
      let items: readonly string[];
      if (typeof v === 'string') items = field === 'scopes' ? v.split(' ').filter((s) => s !== '') : [v];
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) items = v as string[];
      else
        claimType(
          path,
          field === 'scopes' ? 'a space-separated string or an array of strings' : 'an array of strings',
        );
      for (const i of items) safe(path, i, true, trace);
      if (!out) out = [...items];
      else for (const i of items) if (!out.includes(i)) out.push(i);
    }
    return out ? Object.freeze(out) : EMPTY;
  }

  /**
   * Builds the principal. Throws GH_TOKEN_INVALID for a missing or blank subject, a mistyped
   * claim, a blank identifier (`token.claim_blank`) or control characters in any mapped claim
   * (`token.claim_control`). Runs once per verified token (the principal is cached).
   */
  map(claims: Claims, method: AuthMethod, credentialId: string, trace?: Tracer): Principal {
    for (const k of ['iss', 'jti'] as const) {
      if (claims[k] !== undefined && typeof claims[k] !== 'string') claimType(k, 'a string');
    }
    const aud = claims.aud;
    if (
      aud !== undefined &&
      typeof aud !== 'string' &&
      !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
    ) {
      claimType('aud', 'a string or an array of strings');
    }
    const subject = this.str(claims, 'subject', trace);
    if (subject === undefined) {
      trace?.('principal', false, `no subject claim (${this.preset.paths.subject.join(', ')})`);
      throw tokenError(
        'GH_TOKEN_INVALID',
        'token.claim_missing',
        `no subject claim (${this.preset.paths.subject.join(', ')})`,
      );
    }
    const clientId = this.str(claims, 'clientId', trace);
    const jti = claims.jti === undefined ? undefined : safe('jti', claims.jti as string, false, trace);
    const exp = claims.exp;
    const p: Principal = {
      kind: this.preset.kind(claims, subject, clientId),
      subject,
      issuer: claims.iss as string | undefined,
      provider: this.provider,
      method,
      name: this.str(claims, 'name', trace),
      email: this.str(claims, 'email', trace),
      groups: this.list(claims, 'groups', trace),
      roles: this.list(claims, 'roles', trace),
      scopes: this.list(claims, 'scopes', trace),
      clientId,
      tenant: this.str(claims, 'tenant', trace),
      expiresAt: typeof exp === 'number' ? exp : undefined,
      groupsOverage: this.preset.overage?.(claims) ?? false,
      credentialId: jti ?? credentialId,
      claims,
    };
    trace?.(
      'principal',
      true,
      `${p.kind} ${p.subject} via ${p.provider}${p.groupsOverage ? ' (groups overage: group list incomplete)' : ''}`,
    );
    return Object.freeze(withMemo(p));
  }
}
