import type { CriterionInput } from './schema.js';
import { compileWindow } from './time.js';
import { NO_ID, arr, combine, leaf, negate, q, type CriteriaOptions, type Criterion } from './criterion.js';
import {
  claimCriterion,
  emailDomain,
  emailObserved,
  emailUnverified,
  membership,
  pathPrefix,
  sourceIp,
  stringIn,
} from './leaves.js';

export type { CriteriaOptions, Criterion, ExplainScope, RequestInfo } from './criterion.js';
export { emailDomain } from './leaves.js';

/** Compiles the leaves and combinators of one criterion object (several keys: all must hold). */
export function compileCriterion(c: CriterionInput, opts: CriteriaOptions = {}): Criterion {
  const parts: [string, Criterion][] = [];
  const add = (key: string, crit: Criterion) => parts.push([key, crit]);
  const now = opts.now ?? Date.now;

  if (c.all !== undefined)
    add(
      'all',
      combine(
        'all',
        c.all.map((s) => compileCriterion(s, opts)),
      ),
    );
  if (c.any !== undefined)
    add(
      'any',
      combine(
        'any',
        c.any.map((s) => compileCriterion(s, opts)),
      ),
    );
  if (c.not !== undefined) add('not', negate(compileCriterion(c.not, opts)));
  if (c.authenticated !== undefined) {
    const want = c.authenticated;
    add(
      'authenticated',
      leaf({
        label: `authenticated ${want}`,
        identity: want,
        test: (p) => (p !== undefined) === want,
        observed: (p) => (p === undefined ? NO_ID : `verified by ${p.provider}`),
      }),
    );
  }
  if (c.provider !== undefined)
    add(
      'provider',
      stringIn('provider', arr(c.provider), (p) => p.provider),
    );
  if (c.subject !== undefined)
    add(
      'subject',
      stringIn('subject', arr(c.subject), (p) => p.subject),
    );
  if (c.client_id !== undefined)
    add(
      'client_id',
      stringIn('client_id', arr(c.client_id), (p) => p.clientId),
    );
  if (c.token_kind !== undefined)
    add(
      'token_kind',
      stringIn('token_kind', [c.token_kind], (p) => p.kind),
    );
  if (c.email !== undefined) {
    const set = new Set(arr(c.email).map((e) => e.toLowerCase()));
    add(
      'email',
      leaf({
        label: `email ${q(c.email)}`,
        identity: true,
        test: (p) =>
          p?.email !== undefined &&
          emailDomain(p.email) !== undefined &&
          !emailUnverified(p) &&
          set.has(p.email.toLowerCase()),
        observed: (p) => emailObserved(p),
      }),
    );
  }
  if (c.email_domain !== undefined) {
    const set = new Set(arr(c.email_domain).map((d) => d.toLowerCase()));
    add(
      'email_domain',
      leaf({
        label: `email_domain ${q(c.email_domain)}`,
        identity: true,
        test: (p) => {
          if (p?.email === undefined || emailUnverified(p)) return false;
          const d = emailDomain(p.email);
          return d !== undefined && set.has(d);
        },
        observed: (p) => emailObserved(p),
      }),
    );
  }
  if (c.group !== undefined) add('group', membership('group', 'one', [c.group]));
  if (c.groups_any !== undefined) add('groups_any', membership('group', 'any', c.groups_any));
  if (c.groups_all !== undefined) add('groups_all', membership('group', 'all', c.groups_all));
  if (c.role !== undefined) add('role', membership('role', 'one', [c.role]));
  if (c.roles_any !== undefined) add('roles_any', membership('role', 'any', c.roles_any));
  if (c.roles_all !== undefined) add('roles_all', membership('role', 'all', c.roles_all));
  if (c.scope !== undefined) add('scope', membership('scope', 'one', [c.scope]));
  if (c.scopes_any !== undefined) add('scopes_any', membership('scope', 'any', c.scopes_any));
  if (c.scopes_all !== undefined) add('scopes_all', membership('scope', 'all', c.scopes_all));
  if (c.claim !== undefined) add('claim', claimCriterion(c.claim));
  if (c.method !== undefined || c.methods !== undefined) {
    const set = new Set([...(c.method === undefined ? [] : [c.method]), ...(c.methods ?? [])]);
    add(
      c.method !== undefined ? 'method' : 'methods',
      leaf({
        label: `method ${q([...set])}`,
        identity: false,
        test: (_p, r) => set.has(r.method),
        observed: (_p, r) => `method: ${r.method}`,
      }),
    );
  }
  if (c.path_prefix !== undefined) add('path_prefix', pathPrefix(arr(c.path_prefix)));
  if (c.source_ip !== undefined) add('source_ip', sourceIp(arr(c.source_ip)));
  if (c.time_window !== undefined) {
    const w = compileWindow(c.time_window);
    const tw = c.time_window;
    add(
      'time_window',
      leaf({
        label: `time_window ${tw.days ? tw.days.join(',') + ' ' : ''}${tw.from}-${tw.to} ${tw.tz}`,
        identity: false,
        test: () => w.contains(now()),
        observed: () => `now: ${w.describe(now())}`,
      }),
    );
  }
  if (parts.length === 1) return (parts[0] as [string, Criterion])[1];
  return combine(
    'all',
    parts.map(([, crit]) => crit),
    true,
  );
}
