/**
 * Which principal fields and claims the access rules of a route read, so that the doctor can
 * name a claim a token lacks before a rule silently fails on it.
 * @module
 */
import type { GatehouseConfig, RouteConfig } from '../config/schema.js';
import type { Principal } from '../pipeline/principal.js';

/** A principal field a rule reads, or `claim:<path>` for a claim criterion. */
export type RuleField = 'groups' | 'roles' | 'scopes' | 'email' | 'clientId' | 'subject' | `claim:${string}`;

/** One use of a field: by which rule, of which route or policy. */
export interface FieldUse {
  readonly field: RuleField;
  readonly where: string;
}

const KEY_FIELD: Readonly<Record<string, RuleField>> = {
  group: 'groups',
  groups_any: 'groups',
  groups_all: 'groups',
  role: 'roles',
  roles_any: 'roles',
  roles_all: 'roles',
  scope: 'scopes',
  scopes_any: 'scopes',
  scopes_all: 'scopes',
  email: 'email',
  email_domain: 'email',
  client_id: 'clientId',
  subject: 'subject',
};

function walk(c: unknown, where: string, out: FieldUse[]): void {
  if (c === null || typeof c !== 'object') return;
  for (const [k, v] of Object.entries(c as Record<string, unknown>)) {
    if (v === undefined) continue;
    const f = KEY_FIELD[k];
    if (f) out.push({ field: f, where });
    else if (k === 'claim' && typeof (v as { path?: unknown }).path === 'string') {
      // `exists: false` asks for the claim to be absent: not a use.
      if ((v as { exists?: unknown }).exists !== false)
        out.push({ field: `claim:${(v as { path: string }).path}`, where });
    } else if (k === 'all' || k === 'any') for (const s of v as unknown[]) walk(s, where, out);
  }
}

/** Fields read by the `allow` rules of a route, its inline rules and the policies it names. */
export function fieldsUsedBy(config: GatehouseConfig, route: RouteConfig, routeName: string): FieldUse[] {
  const out: FieldUse[] = [];
  const rules = (
    list: readonly { name?: string | undefined; effect: string; when: unknown }[] | undefined,
    at: string,
  ) =>
    list?.forEach((r, i) => {
      if (r.effect === 'allow') walk(r.when, `${at}/${r.name ?? `rules[${i}]`}`, out);
    });
  rules(route.rules, routeName);
  const policies = route.policy === undefined ? [] : [route.policy].flat();
  for (const p of policies) rules(config.policies?.[p]?.rules, `policies.${p}`);
  return out;
}

/** True when the principal has something in `field` (a non-empty list, a string, a claim). */
export function hasField(p: Principal, field: RuleField): boolean {
  if (field.startsWith('claim:')) {
    let cur: unknown = p.claims;
    for (const k of field.slice(6).split('.')) {
      if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return false;
      cur = (cur as Record<string, unknown>)[k];
    }
    return cur !== undefined && cur !== null;
  }
  const v = p[field as keyof Principal];
  return Array.isArray(v) ? v.length > 0 : typeof v === 'string' && v !== '';
}

/** The routes whose bearer or session authentication may accept a principal of `provider`. */
export function routesFor(config: GatehouseConfig, provider: string): { route: RouteConfig; name: string }[] {
  return config.routes
    .map((route, i) => ({ route, name: route.name ?? `routes[${i}]` }))
    .filter(({ route }) => {
      const auth = [route.auth].flat();
      const bearer =
        auth.includes('bearer') && (route.providers === undefined || route.providers.includes(provider));
      const session = auth.includes('session') && config.session?.login.provider === provider;
      return bearer || session;
    });
}
