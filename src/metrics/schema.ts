import { z } from 'zod';
import { checkCidr } from '../util/ip.js';

const cidr = z.string().superRefine((v, ctx) => {
  const m = checkCidr(v);
  if (m)
    ctx.addIssue({
      code: 'custom',
      message: `${m}; expected an IP address or CIDR such as "10.0.0.0/8" or "::1/128"`,
    });
});

/** `server.metrics`: the Prometheus endpoint `/.gatehouse/metrics`. */
export const metricsSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve Prometheus metrics at `/.gatehouse/metrics`.'),
    allow: z
      .array(cidr)
      .default(['127.0.0.1/32', '::1/128'])
      .describe(
        'Client addresses (derived through `server.trusted_proxies`) that may scrape the metrics; others get 404. Default: loopback only.',
      ),
  })
  .strict()
  .describe('Prometheus metrics endpoint.');

export type MetricsConfig = z.output<typeof metricsSchema>;
