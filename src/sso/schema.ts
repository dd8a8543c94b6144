import { z } from 'zod';
import { duration } from '../util/units.js';

/** Longest lifetime of a handoff code: it only has to survive one redirect. */
export const MAX_HANDOFF_TTL_MS = 60_000;

/**
 * `http(s)://host[:port]` with nothing after it, where host may start with `*.` (every
 * subdomain of the rest, one or more labels deep).
 */
const ORIGIN =
  /^(https?):\/\/(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?\/?$/i;

/** Why `origin` cannot be an SSO host (`session.sso.hosts[i]` or `login_url`), or undefined. */
export function ssoOriginProblem(origin: string, wildcard: boolean): string | undefined {
  if (!ORIGIN.test(origin))
    return 'expected an origin such as "https://payroll.example.com" (scheme, host and optional port; no path, query or userinfo)';
  if (!wildcard && origin.includes('*')) return 'a wildcard is not allowed here';
  const port = /:(\d+)\/?$/.exec(origin.slice(8))?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `port ${port} is out of range`;
  return undefined;
}

/**
 * `session.sso`: one sign-in for many hosts. The login host runs the OpenID Connect login (the
 * identity provider sees one redirect URI, on it); every host in `hosts` gets its own host-only
 * session cookie through a signed, single-use handoff from the login host.
 */
export const ssoSchema = z
  .object({
    login_url: z
      .string()
      .refine((s) => ssoOriginProblem(s, false) === undefined, {
        message: 'expected an origin such as "https://login.example.com" (no path)',
      })
      .optional()
      .describe(
        'Origin of the central login host (redirect URI = login_url + login.redirect_path). Default: server.external_url.',
      ),
    hosts: z
      .array(
        z.string().superRefine((s, ctx) => {
          const p = ssoOriginProblem(s, true);
          if (p !== undefined) ctx.addIssue({ code: 'custom', message: p });
        }),
      )
      .min(1, 'expected at least one app origin')
      .describe(
        'App origins that get a session from the login host, e.g. "https://payroll.example.com" or "https://*.apps.example.com". Return URLs must be on one of them.',
      ),
    handoff_ttl: duration
      .default(30_000)
      .refine((ms) => ms >= 1000 && ms <= MAX_HANDOFF_TTL_MS, { message: 'expected 1s to 60s' })
      .describe('Lifetime of a handoff code (single-use, at most 60s).'),
  })
  .strict();

export type SsoConfig = z.output<typeof ssoSchema>;
