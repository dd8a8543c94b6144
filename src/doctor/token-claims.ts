/**
 * Token checks on time and content: `exp`/`nbf`, lifetime against `max_token_lifetime`,
 * `max_token_age` and the session settings, claims the rules read that the token lacks, and
 * Entra ID group overage.
 * @module
 */
import { presetFor } from '../authn/presets.js';
import type { Provider } from '../authn/provider.js';
import type { Principal } from '../pipeline/principal.js';
import type { DoctorContext } from './context.js';
import { finding, humanDuration, type Finding } from './report.js';
import { fieldsUsedBy, hasField, routesFor } from './rules.js';

/** `token.exp` and `token.lifetime`. */
export function timeFindings(
  ctx: DoctorContext,
  p: Provider,
  c: Record<string, unknown>,
  out: Finding[],
): void {
  const subject = `providers.${p.name}`;
  const now = ctx.now() / 1000;
  const num = (k: string) => (typeof c[k] === 'number' ? (c[k] as number) : undefined);
  const exp = num('exp');
  const iat = num('iat');
  const nbf = num('nbf');
  const at = (s: number) => new Date(s * 1000).toISOString();
  const clockFix =
    "if the token is fresh, compare this machine's clock with the IdP (see provider.clock) and synchronise it";
  if (exp === undefined)
    out.push(
      finding.error(
        'token.exp',
        subject,
        'the token has no exp claim',
        undefined,
        'tokens without expiry are refused; check the IdP token settings',
      ),
    );
  else if (exp + p.skewSec <= now)
    out.push(
      finding.error(
        'token.exp',
        subject,
        `the token expired ${humanDuration((now - exp) * 1000)} ago`,
        `exp ${at(exp)}; now ${at(now)}; clock_skew ${p.skewSec} s`,
        `get a new token; ${clockFix}`,
      ),
    );
  else if (nbf !== undefined && nbf - p.skewSec > now)
    out.push(
      finding.error(
        'token.exp',
        subject,
        `the token is not valid for another ${humanDuration((nbf - now) * 1000)} (nbf)`,
        `nbf ${at(nbf)}; now ${at(now)}; clock_skew ${p.skewSec} s`,
        clockFix,
      ),
    );
  else
    out.push(
      finding.ok(
        'token.exp',
        subject,
        `the token is valid for another ${humanDuration((exp - now) * 1000)}`,
        `exp ${at(exp)}`,
      ),
    );
  const start = iat ?? nbf;
  if (exp === undefined || start === undefined) return;
  const lifetime = exp - start;
  const session = ctx.config.session;
  if (lifetime > p.maxLifetimeSec)
    out.push(
      finding.error(
        'token.lifetime',
        subject,
        `the token lives ${humanDuration(lifetime * 1000)}, longer than max_token_lifetime`,
        `exp - ${iat !== undefined ? 'iat' : 'nbf'} = ${lifetime} s; max_token_lifetime ${p.maxLifetimeSec} s`,
        `raise ${subject}.max_token_lifetime to ${Math.ceil(lifetime / 3600)}h if this lifetime is intended, or shorten it at the IdP`,
      ),
    );
  else if (p.maxAgeSec !== undefined && iat !== undefined && now - iat > p.maxAgeSec)
    out.push(
      finding.error(
        'token.lifetime',
        subject,
        'the token is older than max_token_age',
        `issued ${humanDuration((now - iat) * 1000)} ago; max_token_age ${p.maxAgeSec} s`,
        `get a new token or raise ${subject}.max_token_age`,
      ),
    );
  else if (session && session.login.provider === p.name && session.refresh_before >= lifetime * 1000)
    out.push(
      finding.warning(
        'token.lifetime',
        subject,
        'tokens of this IdP live no longer than session.refresh_before: every session request refreshes',
        `token lifetime ${humanDuration(lifetime * 1000)}; session.refresh_before ${humanDuration(session.refresh_before)}`,
        'set session.refresh_before well below the token lifetime (e.g. a tenth of it)',
      ),
    );
  else
    out.push(
      finding.ok(
        'token.lifetime',
        subject,
        `lifetime ${humanDuration(lifetime * 1000)} within max_token_lifetime`,
        `max_token_lifetime ${humanDuration(p.maxLifetimeSec * 1000)}`,
      ),
    );
}

/** `token.groups_overage` and `token.claims` for the rules of the routes that accept `p`. */
export function claimFindings(
  ctx: DoctorContext,
  p: Provider,
  c: Record<string, unknown>,
  principal: Principal,
  out: Finding[],
): void {
  const subject = `providers.${p.name}`;
  const paths = presetFor(p.config).paths;
  const uses = routesFor(ctx.config, p.name).flatMap(({ route, name }) =>
    fieldsUsedBy(ctx.config, route, name),
  );
  const missing = new Map<string, string[]>();
  for (const u of uses)
    if (!hasField(principal, u.field)) missing.set(u.field, [...(missing.get(u.field) ?? []), u.where]);
  const overage = presetFor(p.config).overage?.(c) === true;
  if (overage) {
    const rulesUseGroups = uses.some((u) => u.field === 'groups');
    const f = rulesUseGroups ? finding.error : finding.warning;
    out.push(
      f(
        'token.groups_overage',
        subject,
        'Entra ID group overage: the token carries no group list',
        `${c.hasgroups === true ? 'hasgroups: true' : `_claim_names: ${JSON.stringify(c._claim_names)}`}${
          rulesUseGroups
            ? `; rules read groups: ${uses
                .filter((u) => u.field === 'groups')
                .map((u) => u.where)
                .join(', ')}`
            : ''
        }`,
        'the user is in more groups than fit in a token (200 in JWTs, 6 in implicit flow): in the app registration set "groupMembershipClaims" to "ApplicationGroup" and assign the groups to the enterprise app, or use app roles (rules on role) instead of groups',
      ),
    );
    missing.delete('groups');
  }
  for (const [field, where] of missing) {
    const name = field.startsWith('claim:') ? field.slice(6) : field;
    const from = field.startsWith('claim:')
      ? `claim ${name}`
      : `${name} (read from ${(paths[field as keyof typeof paths] ?? []).join(', ') || 'nothing in this preset'})`;
    out.push(
      finding.warning(
        'token.claims',
        subject,
        `the token has no ${from}, which rules use`,
        `used by ${[...new Set(where)].join(', ')}`,
        `have the IdP emit it (add the claim/scope/optional claim to the token), or point ${subject}.claims.${field.startsWith('claim:') ? '…' : field === 'clientId' ? 'client_id' : field} at the claim that carries it`,
      ),
    );
  }
  if (missing.size === 0 && !overage && uses.length > 0)
    out.push(
      finding.ok(
        'token.claims',
        subject,
        'the token carries every claim the rules read',
        [...new Set(uses.map((u) => u.field))].join(', '),
      ),
    );
}
