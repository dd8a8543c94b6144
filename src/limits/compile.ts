import type { Principal } from '../pipeline/principal.js';
import type { RequestContext } from '../pipeline/context.js';
import type { LimitAlgorithm } from './algorithms.js';
import type { InlineLimitConfig, LimitPolicyConfig } from './schema.js';

/** Extracts the partition value of a limit from a request; undefined falls back to the client IP. */
export type KeyFn = (ctx: RequestContext) => string | undefined;

/** One limit compiled at config load: algorithm parameters, key extractor and header text. */
export interface CompiledLimit extends LimitAlgorithm {
  readonly name: string;
  readonly kind: 'rate' | 'quota';
  /** Store-key prefix: `<name>:`. */
  readonly prefix: string;
  readonly keyFn: KeyFn;
  readonly headers: boolean;
  readonly failOpen: boolean;
  /** `"<name>";q=<quota>;w=<seconds>`: one RateLimit-Policy list member (draft-ietf-httpapi-ratelimit-headers §3.1). */
  readonly policyItem: string;
  /** `"<name>"`: the RateLimit list member's item. */
  readonly item: string;
  /** `limit.exceeded:<name>`. */
  readonly reason: string;
}

function claimValue(p: Principal | undefined, path: readonly string[]): string | undefined {
  let v: unknown = p?.claims;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** Builds the key extractor for `key:` (`subject`, `client_id`, `api_key`, `route`, `ip`, `claim:a.b`). */
export function keyFunction(key: string, routeName: string): KeyFn {
  switch (key) {
    case 'subject':
      return (ctx) => (ctx.principal ? `s|${ctx.principal.provider}|${ctx.principal.subject}` : undefined);
    case 'client_id':
      return (ctx) => {
        const p = ctx.principal;
        const id = p?.clientId ?? (p?.kind === 'client' ? p.subject : undefined);
        return id === undefined ? undefined : `c|${id}`;
      };
    case 'api_key':
      return (ctx) => {
        const p = ctx.principal;
        return p?.method === 'apikey' ? `k|${p.credentialId ?? p.subject}` : undefined;
      };
    case 'route': {
      const v = `r|${routeName}`;
      return () => v;
    }
    case 'ip':
      return () => undefined;
    default: {
      const path = key.slice('claim:'.length).split('.');
      const tag = `${key}|`;
      return (ctx) => {
        const v = claimValue(ctx.principal, path);
        return v === undefined ? undefined : tag + v;
      };
    }
  }
}

/** Compiles one limit definition. `name` is the policy name or the inline limit's name. */
export function compileLimit(
  name: string,
  cfg: LimitPolicyConfig | InlineLimitConfig,
  routeName: string,
): CompiledLimit {
  const quoted = `"${name}"`;
  const common = {
    name,
    prefix: `${name}:`,
    keyFn: keyFunction(cfg.key, routeName),
    headers: cfg.headers,
    item: quoted,
    reason: `limit.exceeded:${name}`,
  };
  if (cfg.rate) {
    const burst = cfg.burst ?? cfg.rate.count;
    const intervalMs = cfg.rate.periodMs / cfg.rate.count;
    const windowMs = intervalMs * burst;
    return {
      ...common,
      kind: 'rate',
      algo: 'gcra',
      intervalMs,
      limit: burst,
      windowMs,
      failOpen: (cfg.on_store_error ?? 'fail_open') === 'fail_open',
      policyItem: `${quoted};q=${burst};w=${Math.max(1, Math.ceil(windowMs / 1000))}`,
    };
  }
  const quota = cfg.quota as NonNullable<typeof cfg.quota>;
  return {
    ...common,
    kind: 'quota',
    algo: cfg.window ?? 'sliding',
    intervalMs: 0,
    limit: quota.count,
    windowMs: quota.periodMs,
    failOpen: (cfg.on_store_error ?? 'fail_closed') === 'fail_open',
    policyItem: `${quoted};q=${quota.count};w=${Math.max(1, Math.ceil(quota.periodMs / 1000))}`,
  };
}
