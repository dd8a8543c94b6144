import { isIP } from 'node:net';
import { z } from 'zod';
import type { RouteBasics } from '../pipeline/route.js';

const name = z.string().min(1, 'expected a non-empty string');
/** One value or a non-empty list of values. */
const oneOrMany = z.union([name, z.array(name).min(1, 'expected at least one value')]);
const list = z.array(name).min(1, 'expected at least one value');

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const scopeToken = z
  .string()
  .regex(SCOPE_TOKEN, 'expected a scope token (printable ASCII, no space, quote or backslash)');
const scopeList = z.array(scopeToken).min(1, 'expected at least one scope');

const DOMAIN =
  /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const domain = z.string().regex(DOMAIN, 'expected a domain name such as "example.com" (no "@", no wildcard)');

const methodName = z
  .string()
  .regex(
    /^[A-Z]+$/,
    'expected an upper-case HTTP method such as "GET" (methods are case-sensitive, RFC 9110 §9.1)',
  );

/** Claim path segments that could reach an object prototype: rejected at load. */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const claimPath = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe(
    'Dotted path into the token claims ("realm_access.roles"), or a list of segments for keys containing dots.',
  )
  .superRefine((v, ctx) => {
    const segs = typeof v === 'string' ? v.split('.') : v;
    for (const s of segs) {
      if (s === '')
        ctx.addIssue({ code: 'custom', message: 'empty path segment ("a..b" or a leading/trailing dot)' });
      else if (FORBIDDEN_SEGMENTS.has(s))
        ctx.addIssue({ code: 'custom', message: `path segment "${s}" is not allowed` });
    }
  });

const scalar = z.union([z.string(), z.number(), z.boolean()]);

const claimSchema = z
  .object({
    path: claimPath,
    equals: scalar.optional().describe('The claim is exactly this value.'),
    one_of: z.array(scalar).min(1).optional().describe('The claim is one of these values.'),
    contains: scalar.optional().describe('The claim is an array containing this value.'),
    exists: z.boolean().optional().describe('The claim is present (true) or absent (false).'),
  })
  .strict()
  .superRefine((v, ctx) => {
    const ops = ['equals', 'one_of', 'contains', 'exists'].filter(
      (k) => v[k as keyof typeof v] !== undefined,
    );
    if (ops.length !== 1)
      ctx.addIssue({
        code: 'custom',
        message: `expected exactly one of equals, one_of, contains, exists (got ${ops.length})`,
      });
  });

/** Validates an IP address or CIDR (`10.0.0.0/8`, `2001:db8::/32`). */
export function isCidr(s: string): boolean {
  const slash = s.indexOf('/');
  const ip = slash < 0 ? s : s.slice(0, slash);
  const fam = isIP(ip);
  if (fam === 0) return false;
  if (slash < 0) return true;
  const bits = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (fam === 4 ? 32 : 128);
}

const cidr = z
  .string()
  .refine(isCidr, { message: 'expected an IP address or CIDR such as "10.0.0.0/8" or "2001:db8::/32"' });

export const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/** True when `tz` is `UTC` or an IANA zone this Node.js build knows. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const timeWindowSchema = z
  .object({
    days: z.array(z.enum(DAYS)).min(1).optional().describe('Days the window opens on (default: every day).'),
    from: z.string().regex(HHMM, 'expected "HH:MM" (24-hour)'),
    to: z
      .string()
      .regex(HHMM, 'expected "HH:MM" (24-hour, "24:00" for midnight)')
      .describe('Exclusive end; before `from` means overnight.'),
    tz: z
      .string()
      .default('UTC')
      .refine(isTimeZone, { message: 'expected "UTC" or an IANA time zone such as "Europe/Paris"' }),
  })
  .strict()
  .refine((v) => v.from !== v.to, { message: '"from" and "to" must differ', path: ['to'] });

/** Input type of one criterion (recursive through all/any/not). */
export interface CriterionInput {
  all?: CriterionInput[] | undefined;
  any?: CriterionInput[] | undefined;
  not?: CriterionInput | undefined;
  authenticated?: boolean | undefined;
  provider?: string | string[] | undefined;
  subject?: string | string[] | undefined;
  email?: string | string[] | undefined;
  email_domain?: string | string[] | undefined;
  group?: string | undefined;
  groups_any?: string[] | undefined;
  groups_all?: string[] | undefined;
  role?: string | undefined;
  roles_any?: string[] | undefined;
  roles_all?: string[] | undefined;
  scope?: string | undefined;
  scopes_any?: string[] | undefined;
  scopes_all?: string[] | undefined;
  claim?: z.output<typeof claimSchema> | undefined;
  client_id?: string | string[] | undefined;
  token_kind?: 'user' | 'client' | undefined;
  method?: string | undefined;
  methods?: string[] | undefined;
  path_prefix?: string | string[] | undefined;
  source_ip?: string | string[] | undefined;
  time_window?: z.output<typeof timeWindowSchema> | undefined;
}

/**
 * One access criterion. Several keys in one object must all hold (an implicit `all`).
 * Unknown keys are config errors with their exact path.
 */
export const criterionSchema: z.ZodType<CriterionInput> = z.lazy(() =>
  z
    .object({
      all: z.array(criterionSchema).min(1).optional().describe('Every sub-criterion holds.'),
      any: z.array(criterionSchema).min(1).optional().describe('At least one sub-criterion holds.'),
      not: criterionSchema.optional().describe('The sub-criterion does not hold.'),
      authenticated: z
        .boolean()
        .optional()
        .describe('A verified identity is (true) or is not (false) present.'),
      provider: oneOrMany.optional().describe('Name of the provider that verified the identity.'),
      subject: oneOrMany.optional().describe('Exact subject (`sub`).'),
      email: z
        .union([z.email(), z.array(z.email()).min(1)])
        .optional()
        .describe('Exact e-mail address (case-insensitive); fails when email_verified is false.'),
      email_domain: z
        .union([domain, z.array(domain).min(1)])
        .optional()
        .describe('Exact domain of the e-mail address (no subdomains); fails when email_verified is false.'),
      group: name.optional().describe('Member of this group.'),
      groups_any: list.optional().describe('Member of at least one of these groups.'),
      groups_all: list.optional().describe('Member of all of these groups.'),
      role: name.optional().describe('Holds this role.'),
      roles_any: list.optional(),
      roles_all: list.optional(),
      scope: scopeToken.optional().describe('The token was granted this scope.'),
      scopes_any: scopeList.optional(),
      scopes_all: scopeList.optional(),
      claim: claimSchema.optional().describe('Test one claim by path.'),
      client_id: oneOrMany.optional().describe('OAuth client id (`azp`, `appid`, `client_id`).'),
      token_kind: z.enum(['user', 'client']).optional().describe('`user` for people, `client` for machines.'),
      method: methodName.optional(),
      methods: z.array(methodName).min(1).optional(),
      path_prefix: z
        .union([z.string().startsWith('/'), z.array(z.string().startsWith('/')).min(1)])
        .optional()
        .describe('Normalised request path is this path or below it (segment boundary).'),
      source_ip: z
        .union([cidr, z.array(cidr).min(1)])
        .optional()
        .describe('Client address in one of these CIDRs.'),
      time_window: timeWindowSchema.optional(),
    })
    .strict()
    .refine((v) => Object.values(v).some((x) => x !== undefined), {
      message: 'a criterion needs at least one condition',
    }),
);

export const ruleSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]+$/, 'expected letters, digits, "_", ".", ":" or "-"')
      .optional(),
    effect: z.enum(['allow', 'deny']),
    when: criterionSchema,
  })
  .strict();

export const policySchema = z
  .object({
    description: z.string().optional(),
    rules: z.array(ruleSchema).min(1, 'a policy needs at least one rule'),
  })
  .strict();

/** Top-level `policies` section: named, reusable rule sets. */
export const policiesSchema = z.record(
  z.string().regex(/^[A-Za-z0-9_.:-]+$/, 'policy names use letters, digits, "_", ".", ":" or "-"'),
  policySchema,
);

/** Route-level keys owned by the authz area (spread into the route schema). */
export const routeAuthzFields = {
  policy: z
    .union([name, z.array(name).min(1)])
    .optional()
    .describe('Named policy (or list: all must allow) from `policies`.'),
  rules: z.array(ruleSchema).min(1).optional().describe('Inline rules for this route (must also allow).'),
  allow: z
    .literal('authenticated')
    .optional()
    .describe('Shorthand: every verified identity is allowed. Exclusive with `policy`/`rules`.'),
};

export type RuleConfig = z.output<typeof ruleSchema>;
export type PolicyConfig = z.output<typeof policySchema>;
export type ClaimCriterion = z.output<typeof claimSchema>;
export type TimeWindow = z.output<typeof timeWindowSchema>;

/** Route keys the authz feature reads. */
export type AuthzRoute = RouteBasics & z.output<z.ZodObject<typeof routeAuthzFields>>;

/** Top-level config the authz feature reads. */
export interface AuthzGlobals {
  readonly policies?: Readonly<Record<string, PolicyConfig>> | undefined;
}
