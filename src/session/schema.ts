import { z } from 'zod';
import { duration, parseDuration } from '../util/units.js';
import { ssoSchema } from '../sso/schema.js';

/** RFC 6265 §4.1.1 cookie-name (an RFC 9110 token). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 6749 §3.3 scope-token. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
/** A host name, or `.suffix` for a domain and its subdomains. */
const DOMAIN =
  /^\.?(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** Login names: `session.logins` keys, `session.login.name`, route `login:`. */
const LOGIN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** `session.login`: how Gatehouse signs browsers in at the identity provider (OIDC code flow + PKCE). */
export const loginSchema = z
  .object({
    name: z
      .string()
      .regex(LOGIN_NAME, 'expected a name of letters, digits, "_" and "-"')
      .optional()
      .describe(
        'Name of this login for routes (`login:`) and the chooser; default: the provider name. Logins in `session.logins` are named by their key.',
      ),
    label: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe(
        'Text of this login on the sign-in chooser page, e.g. "Staff (Entra ID)". Default: its name.',
      ),
    provider: z
      .string()
      .min(1)
      .describe(
        'Name of an entry in `providers`: its issuer is discovered and its claim mapping builds the principal.',
      ),
    client_id: z.string().min(1).describe('Client (application) id registered at the identity provider.'),
    client_secret: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Client secret, usually `${ENV_VAR}`. Omit with token_endpoint_auth_method "none" (public client, PKCE only).',
      ),
    token_endpoint_auth_method: z
      .enum(['client_secret_basic', 'client_secret_post', 'none'])
      .default('client_secret_basic')
      .describe('How Gatehouse authenticates at the token endpoint (OIDC Registration §2).'),
    scopes: z
      .array(z.string().regex(SCOPE_TOKEN, 'expected a scope token without spaces or quotes'))
      .min(1)
      .default(['openid', 'profile', 'email'])
      .refine((s) => s.includes('openid'), { message: 'must include "openid"' })
      .describe(
        'Scopes requested at login; "openid" is required, add "offline_access" for refresh tokens where the IdP needs it.',
      ),
    redirect_path: z
      .string()
      .regex(
        /^\/\.gatehouse\/[A-Za-z0-9._~-]+$/,
        'expected a path under /.gatehouse/, e.g. "/.gatehouse/callback"',
      )
      .default('/.gatehouse/callback')
      .describe('Callback path; the redirect URI registered at the IdP is server.external_url + this path.'),
    allowed_redirect_domains: z
      .array(
        z
          .string()
          .regex(DOMAIN, 'expected a host name ("portal.example.com") or a ".suffix" (".example.com")'),
      )
      .default([])
      .describe(
        'Other hosts users may be sent to after login or logout; a leading dot allows all subdomains.',
      ),
    post_logout_redirect_uri: z
      .string()
      .optional()
      .describe(
        'Where the IdP sends the browser after logout (register it at the IdP). Default: server.external_url + "/".',
      ),
    userinfo: z
      .boolean()
      .default(false)
      .describe('Also fetch the userinfo endpoint at login and merge its claims.'),
    max_groups: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(200)
      .describe('Larger group lists are filtered to the groups rules reference before they are stored.'),
    insecure_allow_http: z
      .boolean()
      .default(false)
      .describe(
        'DANGEROUS: allow a plain-http identity provider (the embedded dev provider). Logged at warn at start.',
      ),
    extra_auth_params: z
      .record(z.string(), z.string())
      .default({})
      .describe('Extra authorization request parameters, e.g. {access_type: offline} for Google.'),
  })
  .strict();

/**
 * `session.redis.near_cache.max_age`: a duration up to 60 s. Checked by a refinement rather than
 * the `duration` transform so that, inside the `near_cache` union, the problem keeps its key path.
 */
const nearCacheMaxAge = z
  .union([z.number(), z.string()])
  .refine((v) => {
    const ms = parseDuration(v);
    return ms !== undefined && ms >= 1 && ms <= 60_000;
  }, 'expected a duration from 1ms to 60s, e.g. "2s"')
  .transform((v) => parseDuration(v) as number);

/** Top-level `session` section: browser sessions from an OpenID Connect login. */
export const sessionSchema = z
  .object({
    cookie_name: z
      .string()
      .regex(COOKIE_NAME, "expected a cookie name (letters, digits, and !#$%&'*+-.^_`|~)")
      .optional()
      .describe(
        'Session cookie name. Default "__Host-gatehouse" when server.external_url is https, "gatehouse_session" otherwise.',
      ),
    cookie_domain: z
      .string()
      .regex(
        /^\.?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/i,
        'expected a parent domain such as "corp.example.com"',
      )
      .optional()
      .describe(
        'One parent-domain session cookie (Domain=…) for the login host and every host under it, instead of host-only cookies; no __Host- prefix then. Not with session.sso. See docs/sso.md, "Cookie choices".',
      ),
    secrets: z
      .array(z.string().min(32, 'expected at least 32 characters (use `openssl rand -base64 32`)'))
      .min(1, 'expected at least one secret')
      .describe(
        'Key ring, newest first, usually from ${ENV}: the newest seals, all open. See docs/secrets.md.',
      ),
    store: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe('Where sessions live; "redis" shares them between instances.'),
    redis: z
      .object({
        url: z
          .string()
          .regex(/^rediss?:\/\//, 'expected redis://[:password@]host:port[/db] or rediss://…')
          .describe('Redis URL, usually `${REDIS_URL}`.'),
        prefix: z.string().default('gatehouse:'),
        timeout: duration.default(2000),
        sentinels: z
          .array(z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).strict())
          .optional(),
        sentinel_name: z.string().optional(),
        near_cache: z
          .union([
            z
              .object({
                max_age: nearCacheMaxAge
                  .default(2000)
                  .describe(
                    'Longest time a cached session is used without reading Redis; bounds the staleness only if an invalidation message is lost while the subscription stays up.',
                  ),
                max_entries: z
                  .number()
                  .int()
                  .min(1)
                  .max(10_000_000)
                  .default(10_000)
                  .describe('Most sessions cached per instance; the least recently used are dropped.'),
              })
              .strict(),
            z.literal(false),
          ])
          .default({ max_age: 2000, max_entries: 10_000 })
          .describe(
            'Per-instance cache of recently read sessions, kept coherent by Redis pub/sub (docs/sessions.md); false: one Redis read per request.',
          ),
      })
      .strict()
      .optional(),
    absolute_lifetime: duration
      .default(12 * 3_600_000)
      .describe('A session ends this long after login, used or not.'),
    idle_timeout: duration.default(3_600_000).describe('A session ends after this long without a request.'),
    paths: z
      .union([
        z.literal('oauth2-proxy'),
        z
          .object({
            callback: z.string().optional().describe('Redirect URI path registered at the IdP.'),
            start: z.string().optional().describe('Starts a login: <start>?rd=<target>.'),
            logout: z.string().optional().describe('Ends the session (RP-initiated logout at the IdP).'),
            userinfo: z.string().optional().describe('The signed-in principal as JSON.'),
          })
          .strict(),
      ])
      .optional()
      .describe(
        'Paths of the browser-facing session endpoints (default /.gatehouse/callback, /.gatehouse/login, /.gatehouse/logout, /.gatehouse/userinfo). "oauth2-proxy" keeps an IdP registration made for oauth2-proxy: /oauth2/callback, /oauth2/start, /oauth2/sign_out, /oauth2/userinfo.',
      ),
    insecure_http_cookies: z
      .boolean()
      .default(false)
      .describe(
        'DANGEROUS: allow the session cookie over plain http (server.external_url http://…), where anyone on the network can read and replay it. Local development only; logged at warn at start.',
      ),
    refresh_before: duration
      .default(60_000)
      .describe('Refresh the access token with the refresh token when it expires within this time.'),
    login: loginSchema,
    logins: z
      .record(
        z.string().regex(LOGIN_NAME, 'expected a name of letters, digits, "_" and "-"'),
        z.lazy(() => extraLoginSchema),
      )
      .optional()
      .describe(
        'More logins besides session.login (e.g. partners at Okta), by name. Routes choose with `login:`; when several apply, a chooser page lists them.',
      ),
    sso: ssoSchema
      .optional()
      .describe(
        'One sign-in for many hosts: a central login host hands sessions to app hosts (docs/sso.md).',
      ),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.store === 'redis' && s.redis === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['redis'],
        message: 'required when store is "redis" (redis.url)',
      });
    }
    if (s.idle_timeout > s.absolute_lifetime) {
      ctx.addIssue({ code: 'custom', path: ['idle_timeout'], message: 'must not exceed absolute_lifetime' });
    }
    if (s.login.token_endpoint_auth_method !== 'none' && s.login.client_secret === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['login', 'client_secret'],
        message: `required with token_endpoint_auth_method "${s.login.token_endpoint_auth_method}"`,
      });
    }
  });

/** `session.logins.<name>`: another login; endpoints, redirects and logout targets are session-wide. */
export const extraLoginSchema = loginSchema
  .omit({ name: true, redirect_path: true, allowed_redirect_domains: true, post_logout_redirect_uri: true })
  .strict()
  .superRefine((l, ctx) => {
    if (l.token_endpoint_auth_method !== 'none' && l.client_secret === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['client_secret'],
        message: `required with token_endpoint_auth_method "${l.token_endpoint_auth_method}"`,
      });
  });

export type SessionConfig = z.output<typeof sessionSchema>;
export type ExtraLoginConfig = z.output<typeof extraLoginSchema>;
export type LoginConfig = z.output<typeof loginSchema>;

/**
 * Top-level config the session feature reads: `session`, the redirect base
 * (`server.external_url`), the login provider's settings and the groups rules reference.
 */
export interface SessionGlobals {
  readonly session?: SessionConfig | undefined;
  readonly server: { readonly external_url?: string | undefined };
  readonly providers?: Readonly<Record<string, unknown>> | undefined;
  /** Searched for referenced group names only (`policies.*.rules`). */
  readonly policies?: unknown;
  /** Searched for referenced group names only (`routes[].rules`). */
  readonly routes: readonly unknown[];
}

/** Route `session:` — this route's session policy: tighter lifetimes and step-up. */
export const routeSessionPolicySchema = z
  .object({
    idle_timeout: duration
      .optional()
      .describe(
        'Sessions idle on this route (and every route naming the same `group`) for longer must sign in again; at most session.idle_timeout.',
      ),
    absolute_lifetime: duration
      .optional()
      .describe(
        'Sessions older than this (since sign-in) must sign in again here; at most session.absolute_lifetime.',
      ),
    group: z
      .string()
      .regex(LOGIN_NAME, 'expected a name of letters, digits, "_" and "-"')
      .optional()
      .describe(
        'Routes with the same group share the idle timer; default: the route host(s), else the route name.',
      ),
    max_auth_age: duration
      .optional()
      .describe(
        'Step-up: the sign-in (ID token auth_time) must be at most this old, else the browser signs in again (prompt=login, max_age).',
      ),
    require_acr: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Step-up: the ID token `acr` must be one of these (requested with acr_values).'),
    require_amr: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Step-up: the ID token `amr` must contain all of these (e.g. [mfa]).'),
  })
  .strict();

export type RouteSessionPolicy = z.output<typeof routeSessionPolicySchema>;

/** Route-level keys owned by the session area (spread into the route schema). */
export const routeSessionFields = {
  login: z
    .union([
      z.string().regex(LOGIN_NAME, 'expected a login name'),
      z.array(z.string().regex(LOGIN_NAME, 'expected a login name')).min(1),
    ])
    .optional()
    .describe(
      'Logins (session.login name, session.logins keys) whose sessions this route accepts; default all. Several: the browser chooses.',
    ),
  session: routeSessionPolicySchema
    .optional()
    .describe(
      'Session policy of this route: tighter idle/absolute lifetimes, step-up (max_auth_age, require_acr, require_amr).',
    ),
};

/** The route keys the session area reads. */
export interface SessionRoute {
  readonly name?: string | undefined;
  readonly login?: string | readonly string[] | undefined;
  readonly session?: RouteSessionPolicy | undefined;
  readonly match: { readonly host?: string | readonly string[] | undefined };
}
