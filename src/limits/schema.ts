import { z } from 'zod';
import type { RouteBasics } from '../pipeline/route.js';
import { duration } from '../util/units.js';

const NAME = /^[A-Za-z0-9_.:-]+$/;
const name = z.string().regex(NAME, 'expected letters, digits, "_", ".", ":" or "-"');

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  sec: 1000,
  second: 1000,
  m: 60_000,
  min: 60_000,
  minute: 60_000,
  h: 3_600_000,
  hr: 3_600_000,
  hour: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
};
const RATE = /^(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*([a-z]+?)s?$/;

/** A parsed `N/unit` rate: `count` units of work per `periodMs`. */
export interface Rate {
  readonly count: number;
  readonly periodMs: number;
}

/** Parses `10/s`, `600/min`, `1000/hour`, `50000/day`, `100/10s`; undefined when malformed. */
export function parseRate(v: string): Rate | undefined {
  const m = RATE.exec(v.trim().toLowerCase());
  if (!m) return undefined;
  const unit = UNIT_MS[m[3] as string];
  const count = Number(m[1]);
  const mult = m[2] === undefined ? 1 : Number(m[2]);
  if (unit === undefined || count < 1 || !(mult > 0)) return undefined;
  return { count, periodMs: Math.round(unit * mult) };
}

const rate = z
  .string()
  .refine((v) => parseRate(v) !== undefined, {
    error: (iss) =>
      `expected a rate like "10/s", "600/min", "1000/hour", "5000/day", got ${JSON.stringify(iss.input)}`,
  })
  .transform((v) => parseRate(v) as Rate)
  .meta({ description: 'N per period: "10/s", "600/min", "1000/hour", "50000/day" or "100/10s".' });

const limitKey = z
  .string()
  .regex(
    /^(subject|client_id|api_key|route|ip|claim:[A-Za-z0-9_$:/.-]+)$/,
    'expected subject, client_id, api_key, route, ip or claim:<path> (e.g. "claim:tenant" or "claim:org.id")',
  )
  .meta({
    description: 'What the budget is counted per. Requests without that value are counted per client IP.',
  });

const limitFields = {
  rate: rate
    .optional()
    .describe('Smoothing limit (token bucket, "spike arrest"): sustained rate, e.g. "10/s".'),
  burst: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe("Token-bucket size for `rate`: requests allowed at once. Default: the rate's N."),
  quota: rate.optional().describe('Quota: N requests per period, e.g. "1000/hour", "50000/day".'),
  window: z
    .enum(['sliding', 'fixed'])
    .optional()
    .describe('Quota window (default sliding). Only with `quota`.'),
  key: limitKey.default('subject'),
  headers: z
    .boolean()
    .default(false)
    .describe('Add RateLimit-Policy / RateLimit headers to allowed responses too.'),
  on_store_error: z
    .enum(['fail_open', 'fail_closed'])
    .optional()
    .describe(
      'When the shared store (Redis) is unreachable. Default: fail_closed for quotas, fail_open for rates.',
    ),
};

function checkKind(
  v: { rate?: unknown; quota?: unknown; burst?: unknown; window?: unknown },
  ctx: z.RefinementCtx,
): void {
  if ((v.rate === undefined) === (v.quota === undefined))
    ctx.addIssue({ code: 'custom', message: 'set exactly one of `rate` (smoothing) or `quota`' });
  if (v.burst !== undefined && v.rate === undefined)
    ctx.addIssue({ code: 'custom', path: ['burst'], message: '`burst` applies to `rate` only' });
  if (v.window !== undefined && v.quota === undefined)
    ctx.addIssue({ code: 'custom', path: ['window'], message: '`window` applies to `quota` only' });
}

/** A named limit under `limits.policies`. */
export const limitPolicySchema = z.object(limitFields).strict().superRefine(checkKind);

/** An inline limit in a route's `limits:` list. */
export const inlineLimitSchema = z
  .object({
    name: name.optional().describe('Name in headers, audit reasons and store keys.'),
    ...limitFields,
  })
  .strict()
  .superRefine(checkKind);

/** Connection to Redis (single node, Sentinel or Cluster). */
export const redisSchema = z
  .object({
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
      .optional()
      .describe('redis://[:password@]host:port[/db] (rediss:// for TLS). Credentials may come from ${ENV}.'),
    sentinel: z
      .object({
        name: z.string().describe('Master group name.'),
        nodes: z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected "host:port"')).min(1),
        password: z.string().optional(),
      })
      .strict()
      .optional(),
    cluster: z
      .object({ nodes: z.array(z.string().regex(/^rediss?:\/\//, 'expected a redis:// URL')).min(1) })
      .strict()
      .optional(),
    key_prefix: z.string().default('gh:'),
    connect_timeout: duration.default(2000),
    command_timeout: duration.default(500).describe('A check slower than this counts as a store error.'),
  })
  .strict()
  .superRefine((v, ctx) => {
    const n =
      Number(v.url !== undefined) + Number(v.sentinel !== undefined) + Number(v.cluster !== undefined);
    if (n !== 1)
      ctx.addIssue({ code: 'custom', message: 'set exactly one of `url`, `sentinel` or `cluster`' });
  });

/** Top-level `limits` section: the counter store and named limit policies. */
export const limitsSchema = z
  .object({
    store: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe('`redis` shares counters between instances.'),
    redis: redisSchema.optional(),
    max_keys: z
      .number()
      .int()
      .min(100)
      .default(100_000)
      .describe('In-memory store: most buckets kept at once.'),
    policies: z.record(name, limitPolicySchema).default({}),
    lease: z
      .object({
        max: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(64)
          .describe(
            'Most tokens one instance takes from Redis at once. 1: one round trip per request (exact).',
          ),
        share: z
          .number()
          .gt(0)
          .max(0.5)
          .default(0.01)
          .describe(
            "At most this share of a limit's budget per lease (limits smaller than 1/share stay exact).",
          ),
        ttl: duration
          .default(1000)
          .describe('Unused leased tokens are dropped after this (and at a quota window end).'),
        max_keys: z.number().int().min(100).default(100_000).describe('Most keys holding a lease at once.'),
      })
      .strict()
      .prefault({})
      .describe(
        'Redis store: local leases of tokens (docs/rate-limits.md#leases). Over-admission of a rate ≤ instances × lease; quotas never over-admit.',
      ),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.store === 'redis' && !v.redis)
      ctx.addIssue({ code: 'custom', path: ['redis'], message: 'store "redis" needs `limits.redis`' });
  });

const apiKeyEntry = z
  .object({
    id: name.optional().describe('Key identifier for audit and rotation (default: a hash prefix).'),
    hash: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, 'expected "sha256:<64 lower-case hex>" (gatehouse hash-key)')
      .describe('SHA-256 of the key. The key itself is never stored.'),
    client_id: z.string().min(1),
    name: z.string().optional(),
    scopes: z.array(z.string()).default([]),
    roles: z.array(z.string()).default([]),
    attributes: z.record(z.string(), z.unknown()).default({}).describe('Extra claims rules can test.'),
    expires_at: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  })
  .strict();

/** One API key entry (as in `api_keys.keys` or the keys file). */
export type ApiKeyEntry = z.output<typeof apiKeyEntry>;
export const apiKeyEntrySchema = apiKeyEntry;

/** Top-level `api_keys` section (the `apikey` authenticator). */
export const apiKeysSchema = z
  .object({
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/)
      .default('X-API-Key'),
    query_param: z
      .string()
      .min(1)
      .optional()
      .describe('Also accept the key from this query parameter (opt-in: URLs end up in logs).'),
    file: z
      .string()
      .optional()
      .describe('YAML/JSON file with a list of keys (or `{keys: [...]}`), relative to the config.'),
    keys: z.array(apiKeyEntry).default([]),
    forward_key: z.boolean().default(false).describe('Pass the key on to the upstream (default: removed).'),
  })
  .strict();

/** Route-level keys owned by the limits area (spread into the route schema). */
export const routeLimitsFields = {
  limits: z
    .array(z.union([name.describe('Name of a policy in `limits.policies`.'), inlineLimitSchema]))
    .optional()
    .describe('Rate limits and quotas; all must pass.'),
};

export type LimitsConfig = z.output<typeof limitsSchema>;
export type LimitPolicyConfig = z.output<typeof limitPolicySchema>;
export type InlineLimitConfig = z.output<typeof inlineLimitSchema>;
export type RedisConfig = z.output<typeof redisSchema>;
export type ApiKeysConfig = z.output<typeof apiKeysSchema>;

/** Route keys the limits feature reads. */
export type LimitsRoute = RouteBasics & z.output<z.ZodObject<typeof routeLimitsFields>>;

/** Top-level config the limits feature reads. */
export interface LimitsGlobals {
  readonly limits?: LimitsConfig | undefined;
}
