import type { Principal } from '../pipeline/principal.js';
import { compileTemplate, type CompiledTemplate } from '../identity/template.js';
import type { ValueEncoding } from '../identity/encode.js';
import { userPrincipal, type UserPrincipal } from './names.js';
import type { KerberosConfig } from './schema.js';

/** The outcome of mapping a principal: an AD account, or why there is none (for the audit). */
export type MappingResult =
  { readonly ok: true; readonly user: UserPrincipal } | { readonly ok: false; readonly reason: string };

/** Maps a signed-in principal to the AD account tickets are requested for. */
export type UserMapper = (p: Principal | undefined) => MappingResult;

/** Values pass unchanged; the account-name check afterwards refuses anything unusual. */
const RAW: ValueEncoding = Object.freeze({
  mode: 'reject',
  scalar: (v: string) => v,
  list: (items: readonly string[], sep: string) => items.join(sep),
  whole: (v: string) => v,
});

function template(t: string, key: string, issue: (path: string, message: string) => void): CompiledTemplate {
  const c = compileTemplate(t, RAW, ',');
  if (typeof c === 'string') {
    issue(key, c);
    return () => undefined;
  }
  return c;
}

/** Entra ID default: the on-premises sAMAccountName, else the UPN when its domain is the realm. */
function entraDefault(p: Principal, realm: string): string | undefined {
  const sam = p.claims['onprem_sam_account_name'];
  if (typeof sam === 'string' && sam !== '') return sam;
  const upn = p.claims['upn'];
  if (typeof upn !== 'string') return undefined;
  const at = upn.lastIndexOf('@');
  return at > 0 && upn.slice(at + 1).toUpperCase() === realm ? upn : undefined;
}

/**
 * Compiles the mapping once at load, in this order: `user_table` (keyed by `user_table_key`),
 * then the `user` template; without a `user` template, principals of Entra ID providers
 * (`entraProviders`: providers with an `entra*` preset) map by `onprem_sam_account_name`, then
 * by `upn`. Template errors are reported at `keyPath`. A result that is not a strict
 * `account[@REALM]` name is a mapping failure, never sent to a tool.
 */
export function compileMapping(
  cfg: KerberosConfig,
  realm: string,
  entraProviders: ReadonlySet<string>,
  keyPath: string,
  issue: (path: string, message: string) => void,
): UserMapper {
  const table = cfg.user_table === undefined ? undefined : new Map(Object.entries(cfg.user_table));
  const tableKey = table ? template(cfg.user_table_key, `${keyPath}.user_table_key`, issue) : undefined;
  const user = cfg.user === undefined ? undefined : template(cfg.user, `${keyPath}.user`, issue);
  if (table)
    for (const [k, v] of table) {
      const u = userPrincipal(v, realm);
      if (typeof u === 'string') issue(`${keyPath}.user_table.${k}`, `"${v}" is ${u}`);
    }
  return (p) => {
    if (p === undefined || p.kind !== 'user')
      return { ok: false, reason: p === undefined ? 'no signed-in user' : 'not a user principal' };
    let mapped: string | undefined;
    let source = '';
    const key = tableKey?.(p);
    if (table && key !== undefined && table.has(key)) {
      mapped = table.get(key);
      source = 'user_table';
    } else if (user) {
      mapped = user(p);
      source = 'user template';
    } else if (entraProviders.has(p.provider)) {
      mapped = entraDefault(p, realm);
      source = 'Entra ID default (onprem_sam_account_name, upn)';
    }
    if (mapped === undefined)
      return { ok: false, reason: source === '' ? 'no mapping applies' : `${source} gave no value` };
    const u = userPrincipal(mapped, realm);
    if (typeof u === 'string') return { ok: false, reason: `${source}: ${u}` };
    return { ok: true, user: u };
  };
}
