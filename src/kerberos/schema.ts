import { z } from 'zod';
import { duration } from '../util/units.js';

/** `HTTP/host`: a service name and a host, no realm (the realm is the configured one). */
const SPN = /^[A-Za-z][A-Za-z0-9-]{0,31}\/[A-Za-z0-9][A-Za-z0-9.-]{0,252}(:\d{1,5})?$/;
/** `name@REALM` with an upper-case realm. */
const SERVICE_PRINCIPAL =
  /^[A-Za-z0-9][A-Za-z0-9._$-]{0,63}(\/[A-Za-z0-9.-]{1,253})?@[A-Z0-9][A-Z0-9.-]{0,252}$/;
const REALM = /^[A-Z0-9][A-Z0-9.-]{0,252}$/;

/**
 * `upstreams.<name>.auth.kerberos`: Kerberos constrained delegation (S4U2Self + S4U2Proxy) to a
 * Windows-authentication upstream. The gateway signs in with its own keytab, obtains a service
 * ticket for the app's SPN on behalf of the signed-in user and sends `Authorization: Negotiate`
 * on every new upstream connection, which stays pinned to that user.
 */
export const kerberosSchema = z
  .object({
    service_principal: z
      .string()
      .regex(SERVICE_PRINCIPAL, 'expected the gateway account as name@REALM, e.g. svc-gateway@CORP.EXAMPLE')
      .describe('The gateway’s own account (trusted for delegation), e.g. svc-gateway@CORP.EXAMPLE.'),
    keytab: z
      .string()
      .min(1)
      .describe(
        'Keytab of service_principal. Read at every kinit; a change of the file (rotation) is picked up at once.',
      ),
    spn: z
      .string()
      .regex(SPN, 'expected a service principal name such as HTTP/payroll.corp.example')
      .describe('SPN of the application, e.g. HTTP/payroll.corp.example (no realm).'),
    krb5_conf: z
      .string()
      .min(1)
      .optional()
      .describe('krb5.conf to use (KRB5_CONFIG of the process); default: the system’s.'),
    realm: z
      .string()
      .regex(REALM, 'expected an upper-case realm such as CORP.EXAMPLE')
      .optional()
      .describe('Realm of the users; default: the realm of service_principal.'),
    user: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Template over the principal giving the AD account, e.g. "{claims.onprem_sam_account_name}"; "@REALM" is appended when the result has no "@".',
      ),
    user_table: z
      .record(z.string().min(1), z.string().min(1))
      .optional()
      .describe('Fixed mapping, looked up first: value of user_table_key → AD account.'),
    user_table_key: z
      .string()
      .min(1)
      .default('{email}')
      .describe('Template giving the key looked up in user_table.'),
    refresh_before: duration
      .default(300_000)
      .describe('Get a new ticket this long before the old one expires (at most a quarter of its lifetime).'),
    max_users: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe(
        'Users whose tickets and pinned connections are kept (least recently used ones are dropped).',
      ),
    connections_per_user: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe('Upstream connections per user; each is authenticated once and never serves another user.'),
  })
  .strict();

/** A validated `auth.kerberos`. */
export type KerberosConfig = z.output<typeof kerberosSchema>;

/** `upstreams.<name>.auth`: how Gatehouse authenticates itself to the upstream. */
export const upstreamAuthSchema = z
  .object({ kerberos: kerberosSchema.optional() })
  .strict()
  .describe('How Gatehouse authenticates to the upstream on the user’s behalf (docs/kerberos.md).');
