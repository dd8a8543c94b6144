import { z } from 'zod';
import { duration, httpUrl, size } from '../util/units.js';
import { parseRate, type Rate } from '../limits/schema.js';
import { outboundFields } from '../net/schema.js';
import type { RouteBasics } from '../pipeline/route.js';
import type { RouteIdentityConfig } from '../identity/schema.js';
import type { ApiKeysConfig } from '../limits/schema.js';

/** Every JWS algorithm a provider may accept. `none` is deliberately absent. */
export const JWS_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'HS256',
  'HS384',
  'HS512',
] as const;

/** Default provider algorithms: asymmetric only. */
export const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;

export const PRESETS = ['generic', 'entra', 'entra_v1', 'okta', 'auth0', 'keycloak', 'google'] as const;

const algorithm = z.enum(JWS_ALGORITHMS, {
  error: (iss) =>
    `unsupported algorithm ${JSON.stringify(iss.input)}; expected one of ${JWS_ALGORITHMS.join(', ')} ("none" is never accepted)`,
});

const claimPath = z
  .string()
  .min(1)
  .describe('Claim name, or a dotted path into nested claims (e.g. `realm_access.roles`).');

const claimsSchema = z
  .object({
    subject: claimPath.optional(),
    name: claimPath.optional(),
    email: claimPath.optional(),
    groups: claimPath.optional(),
    roles: claimPath.optional(),
    scopes: claimPath.optional(),
    client_id: claimPath.optional(),
    tenant: claimPath.optional(),
  })
  .strict()
  .describe('Override where the preset reads each principal field from.');

/** Hard ceiling for any token, whatever `max_token_bytes` says (also the token-source limit). */
export const TOKEN_BYTES_CEILING = 16 * 1024;

const callRate = z
  .string()
  .refine((v) => parseRate(v) !== undefined, {
    error: (iss) => `expected a rate like "50/s", "600/min", got ${JSON.stringify(iss.input)}`,
  })
  .transform((v) => parseRate(v) as Rate);

const introspectionSchema = z
  .object({
    endpoint: httpUrl
      .optional()
      .describe('RFC 7662 introspection endpoint; default: `introspection_endpoint` from discovery.'),
    client_id: z.string().min(1),
    client_secret: z.string().min(1).describe('Use `${ENV_VAR}`; never commit secrets.'),
    auth_method: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic'),
    cache_ttl: duration
      .default(60_000)
      .describe('Active results are cached until the earlier of the token `exp` and this TTL.'),
    negative_cache_ttl: duration.default(5_000).describe('Inactive results are cached this long.'),
    budget: callRate
      .prefault('50/s')
      .describe(
        'Outbound budget: at most this many introspection calls to the IdP (token bucket, e.g. "50/s"); over it, uncached tokens get 503 GH_IDP_THROTTLED.',
      ),
    budget_burst: z
      .number()
      .int()
      .min(1)
      .default(100)
      .describe('Token-bucket size for `budget`: calls allowed at once after a quiet period.'),
  })
  .strict();

/** One identity provider. */
export const providerSchema = z
  .object({
    issuer: z.string().min(1).describe('Exact `iss` value of the tokens (compared as a string).'),
    preset: z.enum(PRESETS).default('generic').describe('How claims map onto the principal.'),
    discovery: z
      .boolean()
      .optional()
      .describe('Fetch `<issuer>/.well-known/openid-configuration`. Default: true unless `jwks_uri` is set.'),
    discovery_url: httpUrl
      .optional()
      .describe(
        'Explicit discovery document URL (Entra ID v1: the v1 issuer differs from the metadata host).',
      ),
    jwks_uri: httpUrl.optional(),
    audiences: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Accepted `aud` values (any one must match).'),
    insecure_allow_missing_audience: z
      .boolean()
      .default(false)
      .describe(
        'DANGEROUS: accept tokens without an audience check (for IdPs whose client-credentials tokens have no `aud`).',
      ),
    algorithms: z
      .array(algorithm)
      .min(1)
      .default([...DEFAULT_ALGORITHMS]),
    shared_secret: z
      .string()
      .min(
        32,
        'expected at least 32 characters (RFC 7518 §3.2: the HMAC key must be at least as long as the hash)',
      )
      .optional()
      .describe('HMAC secret for HS256/384/512. Required for, and only used by, HS* algorithms.'),
    clock_skew: duration.default(60_000),
    max_token_age: duration
      .optional()
      .describe('Refuse tokens whose `iat` is older than this (requires `iat`).'),
    max_token_lifetime: duration
      .refine((ms) => ms >= 60_000, 'expected at least 1m')
      .optional()
      .describe(
        'Refuse tokens valid for longer than this (`exp` - `iat`, else `exp` - `nbf`, else `exp` - now). Default 24h (Entra ID presets: 28h, for CAE tokens).',
      ),
    max_token_bytes: size
      .refine(
        (b) => b >= 1024 && b <= TOKEN_BYTES_CEILING,
        `expected a size from 1kb to ${TOKEN_BYTES_CEILING / 1024}kb`,
      )
      .optional()
      .describe(
        'Refuse larger tokens before parsing or introspection. Default 8kb (Entra ID presets: 16kb, for tokens with many groups).',
      ),
    required_typ: z
      .string()
      .min(1)
      .optional()
      .describe('Required JWT `typ` header, e.g. `at+jwt` (RFC 9068). Default: absent, `JWT` or `at+jwt`.'),
    reject_id_tokens: z
      .boolean()
      .default(true)
      .describe('Refuse tokens that look like OpenID Connect ID tokens.'),
    login_client_ids: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Client ids that receive ID tokens from this provider: a token whose only audience is one of them is an ID token.',
      ),
    claims_namespace: z
      .string()
      .optional()
      .describe('Auth0: prefix of namespaced custom claims, e.g. `https://example.com/`.'),
    roles_client: z
      .string()
      .optional()
      .describe(
        'Keycloak: client whose `resource_access.<client>.roles` count as roles. Default: each audience.',
      ),
    claims: claimsSchema.optional(),
    token_type: z
      .enum(['jwt', 'opaque', 'auto'])
      .default('auto')
      .describe(
        '`opaque`: always introspect. `auto`: compact JWS are verified locally, anything else is introspected.',
      ),
    jwks_refresh: duration.default(300_000).describe('Background JWKS refresh interval.'),
    jwks_stale: duration
      .default(6 * 3_600_000)
      .describe(
        'How long held keys keep verifying after `jwks_refresh` when the IdP cannot be reached; then 503.',
      ),
    jwks_cooldown: duration
      .default(30_000)
      .describe('Minimum interval between JWKS refetches caused by an unknown `kid`.'),
    http_timeout: duration.default(5_000).describe('Timeout for discovery, JWKS and introspection requests.'),
    ...outboundFields,
    introspection: introspectionSchema.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const hs = p.algorithms.filter((a) => a.startsWith('HS'));
    const asym = p.algorithms.filter((a) => !a.startsWith('HS'));
    if (hs.length > 0 && p.shared_secret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['algorithms'],
        message: `${hs.join(', ')} requires shared_secret for this provider (HMAC keys are never taken from the JWKS)`,
      });
    }
    if (p.shared_secret !== undefined && hs.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['shared_secret'],
        message: 'shared_secret is set but algorithms lists no HS256/HS384/HS512',
      });
    }
    if (p.audiences === undefined && !p.insecure_allow_missing_audience) {
      ctx.addIssue({
        code: 'custom',
        path: ['audiences'],
        message:
          'audiences is required (the accepted `aud` values); set insecure_allow_missing_audience: true only for IdPs whose tokens carry no audience',
      });
    }
    if (p.discovery === true && p.jwks_uri !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwks_uri'],
        message: 'set either discovery: true or jwks_uri, not both',
      });
    }
    const needsKeys = asym.length > 0 && p.token_type !== 'opaque';
    if (needsKeys && p.discovery === false && p.jwks_uri === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwks_uri'],
        message: 'jwks_uri is required when discovery is false',
      });
    }
    if (p.token_type === 'opaque' && p.introspection === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['introspection'],
        message: 'token_type: opaque requires introspection',
      });
    }
    if (
      p.introspection &&
      p.introspection.endpoint === undefined &&
      p.discovery === false &&
      p.discovery_url === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['introspection', 'endpoint'],
        message: 'introspection.endpoint is required when discovery is false',
      });
    }
  });

/** Top-level `providers` section: map of provider name → provider. */
export const providersSchema = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]+$/, 'provider names use letters, digits, "_", "." or "-"'),
    providerSchema,
  )
  .describe('Trusted identity providers, by name.');

/** Where a route looks for its bearer token. */
export const tokenSourcesSchema = z
  .object({
    authorization: z
      .boolean()
      .default(true)
      .describe('Read `Authorization: Bearer <token>` (RFC 6750 §2.1).'),
    header: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected an HTTP header name')
      .optional()
      .describe('Also read the raw token from this header.'),
    cookie: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'expected a cookie name')
      .optional(),
    query: z
      .string()
      .regex(/^[A-Za-z0-9._~-]+$/, 'expected a query parameter name')
      .optional()
      .describe(
        'Also accept the token in this query parameter (RFC 6750 §2.3; off unless set). Removed before forwarding.',
      ),
    cache: z
      .boolean()
      .default(true)
      .describe('Cache verified tokens (expiry and rules are still checked per request).'),
  })
  .strict();

/** Route-level keys owned by the authn area (spread into the route schema). */
export const routeAuthnFields = {
  providers: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Providers whose tokens this route accepts (default: all).'),
  token: tokenSourcesSchema.optional(),
};

export type ProviderConfig = z.output<typeof providerSchema>;
export type ProvidersConfig = z.output<typeof providersSchema>;
export type TokenSourcesConfig = z.output<typeof tokenSourcesSchema>;

/** Route keys the authn feature and the authenticators it builds read. */
export type AuthnRoute = RouteBasics &
  z.output<z.ZodObject<typeof routeAuthnFields>> & { readonly identity?: RouteIdentityConfig | undefined };

/** What a listener says about client certificates (for `auth: mtls` warnings). */
interface ListenerClientCerts {
  readonly tls?: { readonly client_ca?: string | undefined; readonly client_certificate: string } | undefined;
}

/** Top-level config the authn feature reads. */
export interface AuthnGlobals {
  readonly providers?: ProvidersConfig | undefined;
  readonly api_keys?: ApiKeysConfig | undefined;
  /** Only whether it is present (`auth: session` without it is a config error). */
  readonly session?: unknown;
  readonly server: { readonly listeners: readonly ListenerClientCerts[] };
}
