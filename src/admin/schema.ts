import { z } from 'zod';
import { duration, httpUrl } from '../util/units.js';
import { routeAuthzFields } from '../authz/schema.js';
import { routeSessionFields } from '../session/schema.js';

/** `host:port` or `[v6]:port`; port 0 picks a free port (tests). */
const LISTEN = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

/** Parses `admin.listen` into address and port; undefined when malformed. */
export function parseListen(s: string): { address: string; port: number } | undefined {
  const m = LISTEN.exec(s);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { address: (m[1] ?? m[2]) as string, port };
}

const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/;

/** True for loopback addresses (the default place of the admin listener). */
export function isLoopback(address: string): boolean {
  return LOOPBACK.test(address);
}

const accessSchema = z
  .object({
    login: routeSessionFields.login.describe(
      'Logins (session.login name, session.logins keys) whose sessions may open the console; default all.',
    ),
    policy: routeAuthzFields.policy.describe(
      'Named policies (top-level `policies`) an admin must pass; all must allow.',
    ),
    rules: routeAuthzFields.rules.describe(
      'The admin policy, in the same rule syntax as routes (docs/rules.md), e.g. `{ effect: allow, when: { group: gatehouse-admins } }`.',
    ),
    mtls_subjects: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        'With admin.tls.client_ca: client certificates with one of these subjects (e.g. "CN=ops-laptop") are admins without a session.',
      ),
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.policy === undefined && a.rules === undefined && a.mtls_subjects === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['rules'],
        message:
          'the console needs an admin policy: "rules" or "policy" (who may sign in), or "mtls_subjects" (Gatehouse denies by default)',
      });
  });

/** Top-level `admin`: the admin listener, its console and JSON API (docs/console.md). */
export const adminSchema = z
  .object({
    listen: z
      .string()
      .refine((s) => parseListen(s) !== undefined, 'expected host:port, e.g. 127.0.0.1:9901')
      .default('127.0.0.1:9901')
      .describe('Address of the admin listener, a port of its own; loopback by default.'),
    insecure_non_loopback: z
      .boolean()
      .default(false)
      .describe(
        'Allow a listen address that is not loopback without TLS. The console then travels in clear text: development only.',
      ),
    public_url: httpUrl
      .optional()
      .describe(
        'How browsers reach the admin listener (sign-in returns here); default http(s)://<listen>. Its host must be the host of server.external_url so the session cookie reaches it.',
      ),
    tls: z
      .object({
        cert: z.string().min(1).describe('Path to the PEM certificate chain.'),
        key: z.string().min(1).describe('Path to the PEM private key.'),
        client_ca: z
          .string()
          .min(1)
          .optional()
          .describe(
            'PEM bundle of CAs whose client certificates are asked for (mTLS admins, see access.mtls_subjects).',
          ),
      })
      .strict()
      .optional()
      .describe('Serve the admin listener over TLS (optionally with client certificates).'),
    access: accessSchema.describe('Who may use the console: a session and the admin policy, or mTLS.'),
    retention: z
      .object({
        decisions: z
          .number()
          .int()
          .min(100)
          .max(1_000_000)
          .default(10_000)
          .describe('Recent decisions kept in memory for the live view and explain (ring buffer).'),
        analytics_window: duration
          .pipe(
            z
              .number()
              .min(15 * 60_000, 'expected at least 15m')
              .max(7 * 86_400_000, 'expected at most 7d'),
          )
          .default(86_400_000)
          .describe('How far back analytics go (one-minute buckets beyond 15 minutes).'),
      })
      .strict()
      .prefault({}),
    stream: z
      .object({
        max_clients: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(32)
          .describe('Live-stream (SSE) clients at once.'),
        client_buffer: z
          .number()
          .int()
          .min(16)
          .max(100_000)
          .default(1000)
          .describe(
            'Decisions queued for one slow client before it is disconnected (the proxy never waits).',
          ),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine((a, ctx) => {
    const l = parseListen(a.listen);
    if (l !== undefined && !isLoopback(l.address) && a.tls === undefined && !a.insecure_non_loopback)
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message: `${l.address} is not a loopback address: add admin.tls, or set admin.insecure_non_loopback: true (development only)`,
      });
    if (a.access.mtls_subjects !== undefined && a.tls?.client_ca === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['access', 'mtls_subjects'],
        message: 'needs admin.tls.client_ca (the CA whose client certificates are trusted)',
      });
  })
  .describe('The admin console and its JSON API on a listener of its own (docs/console.md).');

export type AdminConfig = z.output<typeof adminSchema>;

/** Top-level config the admin feature reads. */
export interface AdminGlobals {
  readonly admin?: AdminConfig | undefined;
}
