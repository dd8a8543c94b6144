/**
 * Identity header checks: names with underscores (dropped by nginx and IIS-fronting proxies by
 * default), names that differ only in letter case (one header to the app), and, for a given
 * token's principal rendered through each route's identity config, sizes against the IIS /
 * http.sys defaults (`MaxFieldLength` 16384, `MaxRequestBytes` 16384) and `max_header_bytes`.
 * @module
 */
import { isGatehouseError } from '../errors/index.js';
import { HEADER_PRESETS, type RouteIdentityConfig } from '../identity/schema.js';
import { easyAuthHeaderNames } from '../identity/inject.js';
import type { RequestContext } from '../pipeline/context.js';
import type { DoctorContext } from './context.js';
import { finding, type Finding } from './report.js';
import { routesFor } from './rules.js';
import type { TokenSubject } from './token.js';

/** http.sys default `MaxFieldLength`: the longest single header line IIS accepts. */
export const HTTP_SYS_MAX_FIELD_LENGTH = 16_384;
/** http.sys default `MaxRequestBytes`: request line plus all headers. */
export const HTTP_SYS_MAX_REQUEST_BYTES = 16_384;
/** Headers Gatehouse adds to every upstream request that an identity template may still name. */
const GATEHOUSE_UPSTREAM_HEADERS: ReadonlyMap<string, string> = new Map([['x-request-id', 'X-Request-Id']]);

/** Room kept for the request line, Host, cookies and the client's own headers. */
const OTHER_HEADERS_ALLOWANCE = 2_048;

/** Header names a route's identity config sets (templated, Easy Auth, assertion). */
export function identityHeaderNames(idc: RouteIdentityConfig): string[] {
  const names: string[] = [];
  if (typeof idc.headers === 'string') names.push(...Object.keys(HEADER_PRESETS[idc.headers]));
  else if (idc.headers) names.push(...Object.keys(idc.headers));
  if (idc.easy_auth)
    names.push(...easyAuthHeaderNames(idc.easy_auth.provider_name, idc.easy_auth.include_tokens));
  if (idc.assertion) names.push(idc.assertion.header);
  return names;
}

/** Runs the header checks; sizes only with a token's principal. */
export async function checkHeaders(ctx: DoctorContext, token: TokenSubject | undefined): Promise<Finding[]> {
  const out: Finding[] = [];
  ctx.config.routes.forEach((r, i) => {
    if (!r.identity) return;
    const subject = `routes[${i}]${r.name ? ` (${r.name})` : ''}.identity`;
    const names = identityHeaderNames(r.identity);
    const underscored = names.filter((n) => n.includes('_'));
    const dups = names.filter((n) => GATEHOUSE_UPSTREAM_HEADERS.has(n.toLowerCase().replace(/_/g, '-')));
    if (underscored.length > 0)
      out.push(
        finding.warning(
          'headers.underscore',
          subject,
          `identity header name${underscored.length > 1 ? 's' : ''} with "_": dropped by nginx (underscores_in_headers off) and by proxies in front of IIS, and ambiguous to IIS server variables`,
          underscored.join(', '),
          `rename with hyphens: ${underscored.map((n) => n.replace(/_/g, '-')).join(', ')} (IIS apps read X-Remote-User as HTTP_X_REMOTE_USER either way)`,
        ),
      );
    if (dups.length > 0)
      out.push(
        finding.error(
          'headers.case_duplicate',
          subject,
          'an identity header has the name of a header Gatehouse sets itself, differing only in case or "_": the app receives both values (IIS joins them)',
          dups
            .map((d) => `${d} vs ${GATEHOUSE_UPSTREAM_HEADERS.get(d.toLowerCase().replace(/_/g, '-')) ?? ''}`)
            .join('; '),
          'rename the identity header (the app can read the X-Request-Id Gatehouse sends); within one route, names that differ only in case are refused by gatehouse validate',
        ),
      );
    if (underscored.length === 0 && dups.length === 0 && names.length > 0)
      out.push(
        finding.ok(
          'headers.names',
          subject,
          'identity header names are safe for IIS and nginx',
          names.join(', '),
        ),
      );
  });
  if (token?.principal && token.provider) out.push(...(await sizeFindings(ctx, token)));
  return out;
}

async function sizeFindings(ctx: DoctorContext, token: TokenSubject): Promise<Finding[]> {
  const out: Finding[] = [];
  const principal = token.principal;
  if (!principal || !token.provider) return out;
  const accepting = new Set(routesFor(ctx.config, token.provider).map((r) => r.name));
  for (const route of ctx.state.routes) {
    const rc = ctx.config.routes[route.index];
    if (!accepting.has(route.name) || !rc?.identity) continue;
    const m = route.mutators.find((x) => x.id === 'identity');
    if (!m) continue;
    const subject = `${route.keyPath}${rc.name ? ` (${rc.name})` : ''}.identity`;
    const rctx = {
      principal,
      inject: new Map<string, string>(),
      drop: new Set<string>(),
      extra: {},
      req: { headers: {} },
    } as unknown as RequestContext;
    try {
      await m.mutate(rctx);
    } catch (e) {
      if (!isGatehouseError(e) || e.code !== 'GH_IDENTITY_TOO_LARGE') throw e;
      out.push(
        finding.error(
          'headers.size',
          subject,
          `this principal's identity headers exceed max_header_bytes: requests get ${e.status} ${e.code}`,
          `${e.detail ?? ''} (principal ${principal.subject}: ${principal.groups.length} groups, ${principal.roles.length} roles)`,
          'send fewer groups (assertion groups: [list], a headers template without {groups}), or raise identity.max_header_bytes within what the app server accepts',
        ),
      );
      continue;
    }
    const lines = [...rctx.inject].map(([n, v]) => ({ name: n, bytes: n.length + 2 + v.length }));
    const forwarded =
      !rctx.drop.has('authorization') && token.tokenBytes !== undefined
        ? 'Authorization: Bearer '.length + token.tokenBytes
        : 0;
    const total = lines.reduce((s, l) => s + l.bytes + 2, 0) + forwarded + OTHER_HEADERS_ALLOWANCE;
    const largest = lines.reduce((a, b) => (b.bytes > a.bytes ? b : a), { name: '(none)', bytes: 0 });
    const evidence = `principal ${principal.subject}: ${lines.length} identity header(s), largest ${largest.name} ${largest.bytes} bytes; identity ${lines.reduce((s, l) => s + l.bytes + 2, 0)} bytes${forwarded ? ` + forwarded Authorization ${forwarded} bytes` : ''} + ${OTHER_HEADERS_ALLOWANCE} for the rest of the request = ${total} bytes`;
    const fix =
      'IIS answers 400 "Request Header Too Long": send fewer groups (filter them, or use app roles), drop the forwarded token (identity.forward_token: remove), or raise HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters MaxFieldLength / MaxRequestBytes on the app server';
    if (largest.bytes > HTTP_SYS_MAX_FIELD_LENGTH)
      out.push(
        finding.error(
          'headers.size',
          subject,
          `header ${largest.name} is longer than http.sys MaxFieldLength (${HTTP_SYS_MAX_FIELD_LENGTH})`,
          evidence,
          fix,
        ),
      );
    else if (total > HTTP_SYS_MAX_REQUEST_BYTES)
      out.push(
        finding.error(
          'headers.size',
          subject,
          `the request to the app would exceed http.sys MaxRequestBytes (${HTTP_SYS_MAX_REQUEST_BYTES})`,
          evidence,
          fix,
        ),
      );
    else if (total > HTTP_SYS_MAX_REQUEST_BYTES * 0.75)
      out.push(
        finding.warning(
          'headers.size',
          subject,
          'the request to the app uses over 75% of http.sys MaxRequestBytes',
          evidence,
          fix,
        ),
      );
    else
      out.push(finding.ok('headers.size', subject, 'identity headers fit IIS / http.sys defaults', evidence));
  }
  return out;
}
