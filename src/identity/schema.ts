import { z } from 'zod';
import type { RouteBasics } from '../pipeline/route.js';
import { duration, httpUrl, size } from '../util/units.js';
import { ASSERTION_ALGORITHMS } from './keys.js';

/** Header presets usable as `identity.headers: <name>`. */
export const HEADER_PRESETS = {
  'oauth2-proxy': {
    'X-Forwarded-User': '{sub}',
    'X-Forwarded-Email': '{email}',
    'X-Forwarded-Groups': '{groups}',
    'X-Forwarded-Preferred-Username': '{claims.preferred_username}',
  },
  'auth-request': {
    'X-Auth-Request-User': '{sub}',
    'X-Auth-Request-Email': '{email}',
    'X-Auth-Request-Groups': '{groups}',
    'X-Auth-Request-Preferred-Username': '{claims.preferred_username}',
  },
  'remote-user': {
    'X-Remote-User': '{sub}',
    'X-Remote-Email': '{email}',
    'X-Remote-Groups': '{groups}',
  },
} as const satisfies Record<string, Record<string, string>>;

const listFilter = z
  .union([z.enum(['all', 'none']), z.array(z.string().min(1))])
  .default('none')
  .describe('`all`, `none`, or the list of values to include when the principal has them.');

const routeAssertionSchema = z
  .object({
    header: z.string().default('X-Gatehouse-Assertion').describe('Header carrying the signed assertion JWT.'),
    audience: z
      .string()
      .min(1)
      .describe('`aud` of the assertion: the upstream app, e.g. "https://intranet.example.com".'),
    groups: listFilter,
    roles: listFilter,
    claims: z.array(z.string().min(1)).default([]).describe('Extra claims of the principal copied as is.'),
    alg: z
      .enum(ASSERTION_ALGORITHMS)
      .optional()
      .describe(
        "JWS algorithm of this route's assertions, e.g. RS256 for verifiers without ECDSA (.NET Framework before 4.7); default identity.assertion.algorithm. Needs key_dir when it differs from it.",
      ),
    ttl: duration
      .refine((ms) => ms >= 1000 && ms <= 300_000, 'expected a lifetime between 1s and 5m')
      .default(60_000)
      .describe('Assertion lifetime (`exp - iat`), at most 5 minutes.'),
  })
  .strict();

const easyAuthSchema = z
  .object({
    provider_name: z
      .string()
      .regex(/^[a-z0-9]+$/i, 'expected letters and digits, e.g. "aad"')
      .default('aad')
      .describe('`auth_typ`, `X-MS-CLIENT-PRINCIPAL-IDP` and the `<PROVIDER>` in `X-MS-TOKEN-<PROVIDER>-*`.'),
    include_tokens: z
      .boolean()
      .default(false)
      .describe('Also send the session tokens as `X-MS-TOKEN-<PROVIDER>-ACCESS-TOKEN` / `-ID-TOKEN`.'),
  })
  .strict();

/** Route-level `identity` section: what the upstream receives about the verified caller. */
export const routeIdentitySchema = z
  .object({
    headers: z
      .union([z.enum(['oauth2-proxy', 'auth-request', 'remote-user']), z.record(z.string(), z.string())])
      .optional()
      .describe(
        'Header name → template (`{sub}`, `{email}`, `{name}`, `{groups}`, `{claims.path}`…), or a preset.',
      ),
    groups_separator: z.string().min(1).max(8).default(','),
    non_ascii: z
      .enum(['percent', 'rfc8187', 'reject'])
      .default('percent')
      .describe('Encoding of values outside printable ASCII. Control characters are never sent raw.'),
    max_header_bytes: size
      .default(8 * 1024)
      .describe('Cap on the total size of the identity headers injected.'),
    assertion: routeAssertionSchema.optional(),
    easy_auth: easyAuthSchema.optional(),
    forward_token: z
      .enum(['auto', 'keep', 'session', 'remove'])
      .default('auto')
      .describe(
        'Caller `Authorization` header: `auto` removes it for session/API-key/certificate callers and keeps verified bearer tokens.',
      ),
    client_cert_headers: z
      .boolean()
      .default(false)
      .describe(
        'Forward the verified client certificate as `X-Client-Cert-Subject`, `-Fingerprint`, `-Spiffe`, `-San`.',
      ),
    resource_metadata: z
      .object({
        authorization_servers: z.array(httpUrl).min(1).optional(),
        scopes_supported: z.array(z.string().min(1)).optional(),
        resource_name: z.string().optional(),
      })
      .strict()
      .optional()
      .describe("RFC 9728 metadata of this bearer route (defaults: the providers' issuers)."),
  })
  .strict();

/** Top-level `identity` section. */
export const identitySchema = z
  .object({
    assertion: z
      .object({
        issuer: httpUrl.optional().describe('`iss` of assertions; defaults to server.external_url.'),
        algorithm: z.enum(ASSERTION_ALGORITHMS).default('ES256'),
        key_file: z.string().optional().describe('PEM private key that signs assertions (manual rotation).'),
        previous_key_files: z
          .array(z.string())
          .default([])
          .describe('Keys still published in the JWKS after a manual rotation.'),
        key_dir: z
          .string()
          .optional()
          .describe(
            'Managed keys: generated on first start (0600) and rotated; default .gatehouse/assertion-keys next to the config.',
          ),
        rotate_after: duration
          .refine((ms) => ms >= 3_600_000, 'expected at least 1h')
          .optional()
          .describe('Generate a new managed key when the newest is older than this.'),
        activation_delay: duration
          .default(300_000)
          .describe('A new managed key is published this long before it signs.'),
      })
      .strict()
      .optional(),
    strip_headers: z
      .array(z.string().min(1))
      .default([])
      .describe('Extra header names removed from every request (case and `_`/`-` insensitive).'),
  })
  .strict();

/** Route-level keys owned by the identity area (spread into the route schema). */
export const routeIdentityFields = {
  identity: routeIdentitySchema.optional(),
};

export type IdentityConfig = z.output<typeof identitySchema>;
export type RouteIdentityConfig = z.output<typeof routeIdentitySchema>;

/** Route keys the identity feature reads (`providers`: the issuers named in assertions). */
export type IdentityRoute = RouteBasics & {
  readonly identity?: RouteIdentityConfig | undefined;
  readonly providers?: readonly string[] | undefined;
};

/** Top-level config the identity feature reads. */
export interface IdentityGlobals {
  readonly identity?: IdentityConfig | undefined;
  readonly routes: readonly IdentityRoute[];
  readonly server: { readonly external_url?: string | undefined };
  readonly providers?: Readonly<Record<string, { readonly issuer?: unknown }>> | undefined;
}
