import { z } from 'zod';
import { duration, httpUrl, size } from '../util/units.js';
import {
  identitySchema,
  limitsSchema,
  cacheSchema,
  apiKeysSchema,
  policiesSchema,
  providersSchema,
  routeAuthnFields,
  routeAuthzFields,
  routeIdentityFields,
  routeLimitsFields,
  routeCacheFields,
  routeSessionFields,
  routeGuardFields,
  sessionSchema,
} from './area-schemas.js';
import { metricsSchema } from '../metrics/schema.js';
import { auditSchema } from '../audit/schema.js';
import { forwardAuthSchema } from '../forward/schema.js';
import { tracingSchema } from '../tracing/schema.js';
import { listenerSchema } from '../server/listener-schema.js';
import { redirectListenerIssues } from '../server/https-redirect.js';
import { upstreamSchema, type UpstreamConfig } from '../upstream/schema.js';
import { pagesSchema } from '../pages/schema.js';
import { adminSchema } from '../admin/schema.js';

export { upstreamSchema, type UpstreamConfig };

const cidr = z
  .string()
  .regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'expected an IP address or CIDR such as "10.0.0.0/8" or "::1/128"');

export { listenerSchema };

const methods = z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

export const routeSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits, "_", ".", ":" or "-"')
      .optional(),
    match: z
      .object({
        host: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
        path: z.string().startsWith('/', 'expected a path starting with "/"').default('/'),
        path_type: z.enum(['prefix', 'exact']).default('prefix'),
        methods: z.array(methods).min(1).optional(),
      })
      .strict()
      .prefault({}),
    upstream: z
      .union([z.string(), upstreamSchema])
      .describe('Name of an entry in `upstreams`, or an inline upstream.'),
    preserve_host: z.boolean().default(true),
    strip_prefix: z.string().startsWith('/').optional(),
    rewrite_prefix: z.string().startsWith('/').optional(),
    case_insensitive: z
      .boolean()
      .default(false)
      .describe('Match paths case-insensitively (IIS-backed routes).'),
    max_body_size: z.union([size, z.literal('unlimited')]).optional(),
    auth: z
      .union([z.string(), z.array(z.string()).min(1)])
      .describe('`none` for public routes, or one or more authenticators: bearer, session, apikey, mtls.'),
    ...routeAuthnFields,
    ...routeAuthzFields,
    ...routeSessionFields,
    ...routeIdentityFields,
    ...routeLimitsFields,
    ...routeCacheFields,
    ...routeGuardFields,
  })
  .strict();

export const configSchema = z
  .object({
    server: z
      .object({
        listeners: z
          .array(listenerSchema)
          .min(1)
          .default([{ address: '127.0.0.1', port: 8080 }]),
        external_url: httpUrl.optional().describe('Public base URL of Gatehouse (login redirect URIs).'),
        trusted_proxies: z.array(cidr).default([]),
        timeouts: z
          .object({
            headers: duration.default(10_000),
            request: duration
              .default(60_000)
              .describe(
                'Longest time to receive a whole request, body included (also the bound of request body buffering). 0: no limit.',
              ),
            idle: duration.default(60_000),
            keep_alive: duration.default(5000),
          })
          .strict()
          .refine((t) => t.request === 0 || t.request >= t.headers, {
            path: ['request'],
            message: 'must be at least timeouts.headers (a request includes its head)',
          })
          .prefault({}),
        max_header_size: size.default(16 * 1024),
        fast_lane: z
          .boolean()
          .default(true)
          .describe(
            "Listeners (plain and TLS) parse bodiless GET/HEAD requests themselves (a strict subset); everything else goes to Node's HTTP parser.",
          ),
        max_body_size: z.union([size, z.literal('unlimited')]).default(10 * 1024 * 1024),
        request_buffer_size: size
          .default(64 * 1024)
          .describe(
            'Request bodies up to this size are read in full before an upstream connection is taken; larger ones stream once this much arrived. 0: stream at once.',
          ),
        max_connections_per_client: z
          .number()
          .int()
          .min(0)
          .default(512)
          .describe(
            'Open connections one client address (the TCP peer) may hold; more are answered 429 GH_TOO_MANY_CONNECTIONS and closed. Trusted proxies are exempt. 0: no cap.',
          ),
        max_in_flight_per_client: z
          .number()
          .int()
          .min(0)
          .default(256)
          .describe(
            'Requests one client address (through trusted proxies) may have in progress; more get 429 GH_TOO_MANY_IN_FLIGHT. 0: no cap.',
          ),
        shutdown_timeout: duration.default(30_000),
        workers: z
          .union([z.number().int().min(1).max(64), z.literal('auto')])
          .default(1)
          .describe(
            'Processes serving the listeners (`auto`: one per CPU). Above 1, memory-backed limits, sessions and response cache are refused (use redis).',
          ),
        watch_config: z
          .boolean()
          .default(false)
          .describe('Reload when the config file changes (debounced, validated, atomic like SIGHUP).'),
        control: z
          .object({
            enabled: z.boolean().default(true),
            socket: z
              .string()
              .min(1)
              .optional()
              .describe(
                'Unix socket (mode 0600) or Windows pipe `\\\\.\\pipe\\NAME` for `gatehouse reload`. Default: the config path with `.sock` (Windows: a pipe named after it).',
              ),
          })
          .strict()
          .prefault({})
          .describe('Local control channel used by `gatehouse reload`.'),
        metrics: metricsSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
        access_log: z.boolean().default(true),
        file: z.string().optional().describe('Write logs to this file instead of stdout.'),
      })
      .strict()
      .prefault({}),
    upstreams: z.record(z.string(), upstreamSchema).default({}),
    routes: z.array(routeSchema).default([]),
    providers: providersSchema.optional(),
    policies: policiesSchema.optional(),
    session: sessionSchema.optional(),
    identity: identitySchema.optional(),
    limits: limitsSchema.optional(),
    cache: cacheSchema.optional(),
    api_keys: apiKeysSchema.optional(),
    forward_auth: forwardAuthSchema.optional(),
    tracing: tracingSchema.optional(),
    pages: pagesSchema
      .optional()
      .describe('Operator templates and branding of the pages browsers see (docs/pages.md).'),
    audit: auditSchema,
    admin: adminSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const i of redirectListenerIssues(c)) ctx.addIssue({ code: 'custom', ...i });
  });

export type GatehouseConfig = z.output<typeof configSchema>;
export type RouteConfig = z.output<typeof routeSchema>;
export type ListenerConfig = z.output<typeof listenerSchema>;
