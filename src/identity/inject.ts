import { GatehouseError } from '../errors/index.js';
import type { RequestContext } from '../pipeline/context.js';
import { memoized, type Principal } from '../pipeline/principal.js';
import type { Mutator } from '../pipeline/stages.js';
import type { RouteAssertion } from './assertion.js';
import { clientPrincipalId, clientPrincipalName, encodeClientPrincipal } from './easyauth.js';
import type { ValueEncoding } from './encode.js';
import type { CompiledTemplate } from './template.js';

/** `ctx.extra` key where the session authenticator leaves the session's access token. */
export const EXTRA_SESSION_ACCESS_TOKEN = 'sessionAccessToken';
/** `ctx.extra` key where the session authenticator leaves the session's ID token. */
export const EXTRA_SESSION_ID_TOKEN = 'sessionIdToken';

/** One templated header, compiled at load. */
export interface CompiledHeader {
  readonly name: string;
  readonly render: CompiledTemplate;
}

/** Everything the identity mutator of one route does, compiled at load. */
export interface IdentityPlan {
  readonly headers: readonly CompiledHeader[];
  readonly forwardToken: 'auto' | 'keep' | 'session' | 'remove';
  readonly maxBytes: number;
  readonly encoding: ValueEncoding;
  readonly easyAuth:
    { readonly provider: string; readonly tokenPrefix: string; readonly includeTokens: boolean } | undefined;
  readonly clientCertHeaders: boolean;
  readonly assertion: { readonly header: string; readonly signer: RouteAssertion } | undefined;
}

const CERT_HEADERS = {
  subject: 'X-Client-Cert-Subject',
  issuer: 'X-Client-Cert-Issuer',
  fingerprint: 'X-Client-Cert-Fingerprint',
  spiffe: 'X-Client-Cert-Spiffe',
} as const;

/** Header names the client-certificate forwarding sets. */
export const CLIENT_CERT_HEADER_NAMES: readonly string[] = Object.values(CERT_HEADERS);

/** Easy Auth header names (the token headers depend on the provider name). */
export function easyAuthHeaderNames(provider: string, includeTokens: boolean): string[] {
  const names = [
    'X-MS-CLIENT-PRINCIPAL',
    'X-MS-CLIENT-PRINCIPAL-NAME',
    'X-MS-CLIENT-PRINCIPAL-ID',
    'X-MS-CLIENT-PRINCIPAL-IDP',
  ];
  const p = provider.toUpperCase();
  if (includeTokens) names.push(`X-MS-TOKEN-${p}-ACCESS-TOKEN`, `X-MS-TOKEN-${p}-ID-TOKEN`);
  return names;
}

function tooLarge(total: number, max: number): GatehouseError {
  return new GatehouseError('GH_IDENTITY_TOO_LARGE', `identity headers need ${total} bytes, limit ${max}`, {
    reasons: ['identity.too_large'],
  });
}

function applyForwardToken(ctx: RequestContext, p: Principal, mode: IdentityPlan['forwardToken']): void {
  if (mode === 'keep') return;
  const bearer = p.method === 'jwt' || p.method === 'introspection';
  if (mode !== 'remove' && bearer) return;
  ctx.drop.add('authorization');
  if (mode === 'session' && p.method === 'session') {
    const tok = ctx.extra[EXTRA_SESSION_ACCESS_TOKEN];
    if (typeof tok === 'string' && tok !== '') ctx.inject.set('Authorization', `Bearer ${tok}`);
  }
}

/**
 * Builds the route's identity mutator: token forwarding, templated headers, Easy Auth and
 * client-certificate headers, then the signed assertion, all counted against `maxBytes`.
 * Synchronous unless a new assertion must be signed.
 */
export function identityMutator(plan: IdentityPlan): Mutator {
  // Templated header values per principal object (flat name/value list), kept on the principal
  // (pipeline/principal.ts): a cached token's principal renders once, not on every request.
  // Templates read the principal only. The two owners are this mutator's own.
  const rendered = {};
  const easyCache = {};
  const enc = plan.encoding;
  const renderHeaders = (p: Principal): string[] => {
    const hv: string[] = [];
    for (const h of plan.headers) {
      const v = h.render(p);
      if (v !== undefined) hv.push(h.name, v);
    }
    return hv;
  };
  const easyAuthValues = (p: Principal): string[] => {
    const provider = plan.easyAuth?.provider ?? '';
    return [
      encodeClientPrincipal(p, provider),
      enc.whole(enc.scalar(clientPrincipalName(p))),
      enc.whole(enc.scalar(clientPrincipalId(p))),
      provider,
    ];
  };
  const set = (ctx: RequestContext, name: string, value: string): number => {
    ctx.inject.set(name, value);
    return name.length + value.length + 4;
  };
  return {
    id: 'identity',
    mutate(ctx) {
      const p = ctx.principal;
      if (!p) return;
      applyForwardToken(ctx, p, plan.forwardToken);
      let total = 0;
      const hv = memoized(p, rendered, renderHeaders);
      for (let i = 0; i < hv.length; i += 2) total += set(ctx, hv[i] as string, hv[i + 1] as string);
      const ea = plan.easyAuth;
      if (ea) {
        const vals = memoized(p, easyCache, easyAuthValues);
        total += set(ctx, 'X-MS-CLIENT-PRINCIPAL', vals[0] as string);
        total += set(ctx, 'X-MS-CLIENT-PRINCIPAL-NAME', vals[1] as string);
        total += set(ctx, 'X-MS-CLIENT-PRINCIPAL-ID', vals[2] as string);
        total += set(ctx, 'X-MS-CLIENT-PRINCIPAL-IDP', vals[3] as string);
        if (ea.includeTokens && p.method === 'session') {
          const at = ctx.extra[EXTRA_SESSION_ACCESS_TOKEN];
          const it = ctx.extra[EXTRA_SESSION_ID_TOKEN];
          if (typeof at === 'string' && at !== '') total += set(ctx, `${ea.tokenPrefix}ACCESS-TOKEN`, at);
          if (typeof it === 'string' && it !== '') total += set(ctx, `${ea.tokenPrefix}ID-TOKEN`, it);
        }
      }
      if (plan.clientCertHeaders && p.method === 'mtls') {
        const c = p.claims;
        const put = (name: string, v: unknown): void => {
          if (typeof v === 'string' && v !== '') total += set(ctx, name, enc.whole(enc.scalar(v)));
        };
        put(CERT_HEADERS.subject, c.subject_dn);
        put(CERT_HEADERS.issuer, c.issuer_dn);
        put(CERT_HEADERS.fingerprint, c.fingerprint_sha256);
        put(CERT_HEADERS.spiffe, c.spiffe_id);
      }
      const a = plan.assertion;
      if (!a) {
        if (total > plan.maxBytes) throw tooLarge(total, plan.maxBytes);
        return;
      }
      const tok = a.signer.get(p);
      if (typeof tok === 'string') {
        total += set(ctx, a.header, tok);
        if (total > plan.maxBytes) throw tooLarge(total, plan.maxBytes);
        return;
      }
      const before = total;
      return tok.then((t) => {
        const sum = before + set(ctx, a.header, t);
        if (sum > plan.maxBytes) throw tooLarge(sum, plan.maxBytes);
      });
    },
  };
}
