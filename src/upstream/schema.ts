import { z } from 'zod';
import { duration, httpUrl } from '../util/units.js';
import { upstreamAuthSchema } from '../kerberos/schema.js';

const tlsVersion = z.enum(['TLSv1.2', 'TLSv1.3']);

/** `200`, or a range `"200-399"`: statuses a health check accepts. */
const statusSpec = z.union([
  z.number().int().min(100).max(599),
  z
    .string()
    .regex(/^[1-5]\d\d(-[1-5]\d\d)?$/, 'expected a status such as 200 or a range such as "200-399"')
    .refine((r) => {
      const [lo, hi] = r.split('-');
      return hi === undefined || Number(lo) <= Number(hi);
    }, 'expected a range from low to high such as "200-399"'),
]);

/** A check period: at least 10 ms, so a typo cannot turn the checks into a flood. */
const checkPeriod = (fallback: number) =>
  duration.refine((ms) => ms >= 10, 'expected at least 10ms').default(fallback);

/** One server of a farm. */
export const targetSchema = z
  .object({
    url: httpUrl,
    weight: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .default(1)
      .describe('Share of requests relative to the other targets (round_robin, least_in_flight, sticky).'),
  })
  .strict();

/** Active health checks: a separate small request per target, off unless configured. */
export const healthCheckSchema = z
  .object({
    path: z
      .string()
      .regex(/^\/[\x21-\x7e]*$/, 'expected a path starting with "/" (printable ASCII, no spaces)'),
    interval: checkPeriod(10_000),
    timeout: checkPeriod(2000),
    healthy_threshold: z.number().int().min(1).max(100).default(2),
    unhealthy_threshold: z.number().int().min(1).max(100).default(3),
    expected_status: z.array(statusSpec).min(1).default(['200-399']),
  })
  .strict();

/** Passive ejection: consecutive failed requests take a target out for `cool_down`. */
export const passiveHealthSchema = z
  .object({
    max_failures: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(5)
      .describe(
        'Consecutive failures (connect failures, resets, timeouts; 5xx when count_5xx) that eject a target. 0: never.',
      ),
    count_5xx: z.boolean().default(true).describe('Count 5xx responses as failures.'),
    cool_down: duration
      .default(30_000)
      .describe('How long an ejected target gets no requests; then it is tried again.'),
  })
  .strict();

/** `upstreams.<name>` and a route's inline `upstream:`. */
export const upstreamSchema = z
  .object({
    url: httpUrl.optional().describe('The single server. Exactly one of url and targets.'),
    targets: z
      .array(targetSchema)
      .min(1)
      .max(32)
      .optional()
      .describe('Servers of a farm (same scheme and path). Exactly one of url and targets.'),
    balance: z.enum(['round_robin', 'least_in_flight', 'sticky']).default('round_robin'),
    sticky_fallback: z
      .enum(['client_ip', 'round_robin'])
      .default('client_ip')
      .describe('balance: sticky: what keys a request without principal.'),
    host_header: z
      .string()
      .regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/, 'expected host[:port]')
      .optional()
      .describe('Host sent upstream when the route does not preserve it (default: the first target).'),
    health_check: healthCheckSchema.optional(),
    passive_health: passiveHealthSchema.prefault({}),
    max_connections: z.number().int().min(1).max(10_000).default(128),
    max_queue: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .default(1024)
      .describe(
        'Requests that may wait for a connection when all max_connections are busy; more get 503 GH_UPSTREAM_BUSY at once. 0: none waits.',
      ),
    timeouts: z
      .object({
        connect: duration.default(5000),
        headers: duration.default(30_000),
        idle: duration.default(60_000),
        keep_alive: duration.default(4000),
        queue: duration
          .default(10_000)
          .describe(
            'Longest wait for a free upstream connection; then 503 GH_UPSTREAM_QUEUE_TIMEOUT. 0: no limit.',
          ),
      })
      .strict()
      .prefault({}),
    tls: z
      .object({
        ca: z
          .string()
          .optional()
          .describe('PEM bundle of CAs trusted for this upstream (replaces the system store).'),
        cert: z.string().optional().describe('Client certificate for mutual TLS to the upstream.'),
        key: z.string().optional(),
        server_name: z.string().optional(),
        min_version: tlsVersion.default('TLSv1.2'),
        insecure_skip_verify: z
          .boolean()
          .default(false)
          .describe('DANGEROUS: do not verify the upstream certificate. Logged loudly at start.'),
      })
      .strict()
      .optional(),
    auth: upstreamAuthSchema.optional(),
  })
  .strict()
  .superRefine((u, ctx) => {
    if (u.url === undefined && u.targets === undefined)
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give either url or targets' });
    if (u.url !== undefined && u.targets !== undefined)
      ctx.addIssue({ code: 'custom', path: ['targets'], message: 'give either url or targets, not both' });
    if (u.auth?.kerberos && (u.targets !== undefined || u.health_check !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: [u.targets !== undefined ? 'targets' : 'health_check'],
        message: 'auth.kerberos needs a single url (no targets, no health_check)',
      });
  });

/** A validated upstream. */
export type UpstreamConfig = z.output<typeof upstreamSchema>;
/** A validated health check. */
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
