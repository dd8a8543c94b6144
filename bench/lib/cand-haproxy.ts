import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/helpers/ports.js';
import { publicKeyPem, type IdpAlg, type IdpServer } from '../tokens.js';
import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { BENCH_SCOPE, benchIdp, oneToken } from './cand-bearer.js';
import { gatePlain } from './cand-core.js';
import { startHaproxy, type HaproxyFrontend } from './haproxy.js';
import { expectStatus, httpGet } from './http.js';
import { UPSTREAM_BODY } from './nginx.js';

/**
 * The C peer (issue 19): haproxy (one thread, pinned to the proxy CPU with the upstream) in the
 * same run as the Gatehouse rows. The `jwt_verify` rows are set up as in ../shared/benchmarks.md:
 * the bearer token into a variable; 401 unless the header's `alg` is the one expected, unless
 * `jwt_verify` returns 1, unless `iss` and `aud` match (strings) and `exp` is after `date()`;
 * 403 unless `scope` holds the required scope (as a word); `X-Auth-User` / `X-Auth-Email` set
 * from `sub` / `email`; `Authorization` removed. haproxy has no verified-token cache: it
 * verifies the signature on every request, so one token (as in the warm Gatehouse rows) measures
 * what a new token would cost too.
 */

/** Identity headers the haproxy peer sets (Gatehouse rows set these two plus X-Auth-Groups). */
const HAPROXY_IDENTITY = { 'X-Auth-User': 'sub', 'X-Auth-Email': 'email' } as const;

/** A haproxy ACL pattern for `-m str`: the value must not need quoting. */
function literal(what: string, v: string): string {
  if (!/^[\w.:/@+-]+$/.test(v)) throw new Error(`haproxy bench: ${what} ${JSON.stringify(v)} needs quoting`);
  return v;
}

/** The `http-request` rules of a `jwt_verify` frontend for tokens of `idp`. */
export function jwtRules(alg: IdpAlg, keyFile: string, idp: IdpServer): string[] {
  const tok = 'var(txn.bearer)';
  const deny401 = 'http-request deny deny_status 401 unless';
  const claim = (name: string) => `${tok},jwt_payload_query('$.${name}')`;
  const scope = BENCH_SCOPE.replace(/\./g, '[.]');
  return [
    'http-request set-var(txn.bearer) http_auth_bearer',
    `${deny401} { ${tok},jwt_header_query('$.alg') -m str ${alg} }`,
    `${deny401} { ${tok},jwt_verify("${alg}","${keyFile}") -m int 1 }`,
    `${deny401} { ${claim('iss')} -m str ${literal('issuer', idp.issuer)} }`,
    `${deny401} { ${claim('aud')} -m str ${literal('audience', idp.audience)} }`,
    'http-request set-var(txn.now) date()',
    `${deny401} { ${tok},jwt_payload_query('$.exp','int'),sub(txn.now) -m int gt 0 }`,
    `http-request deny deny_status 403 unless { ${claim('scope')} -m reg '(^| )${scope}( |$)' }`,
    ...Object.entries(HAPROXY_IDENTITY).map(([h, c]) => `http-request set-header ${h} %[${claim(c)}]`),
    'http-request del-header Authorization',
  ];
}

/** The correctness gate of a haproxy `jwt_verify` row. */
async function gateJwt(
  id: string,
  url: string,
  gateUrl: string,
  idp: IdpServer,
  token: string,
): Promise<void> {
  const get = (t: string | undefined, base = url) =>
    httpGet(`${base}/bench`, t === undefined ? {} : { authorization: `Bearer ${t}` });
  expectStatus(`${id}: GET /bench without a token`, await get(undefined), 401);
  const [h, p, s] = token.split('.');
  const forged = `${h}.${p}.${(s ?? '').startsWith('A') ? 'B' : 'A'}${(s ?? '').slice(1)}`;
  expectStatus(`${id}: GET /bench with a forged signature`, await get(forged), 401);
  const bad: [string, Record<string, unknown>][] = [
    ['another audience', { aud: 'api://someone-else' }],
    ['another issuer', { iss: 'http://127.0.0.1:1/elsewhere' }],
    ['an expired token', { exp: 1000, iat: 900 }],
  ];
  for (const [what, claims] of bad)
    expectStatus(`${id}: GET /bench with ${what}`, await get(oneToken(idp, 10, claims)), 401);
  const noScope = oneToken(idp, 11, { scope: `openid ${BENCH_SCOPE}x` });
  expectStatus(`${id}: GET /bench, token without scope ${BENCH_SCOPE}`, await get(noScope), 403);
  const ok = await get(token);
  expectStatus(`${id}: GET /bench with a valid token`, ok, 200);
  if (ok.body !== UPSTREAM_BODY)
    throw new Error(`${id}: body differs from the upstream's: ${JSON.stringify(ok.body.slice(0, 200))}`);
  const echo = await httpGet(`${gateUrl}/x`, { authorization: `Bearer ${token}`, 'x-auth-user': 'forged' });
  expectStatus(`${id}: GET on the echo frontend with a valid token`, echo, 200);
  const got = (JSON.parse(echo.body) as { headers: Record<string, unknown> }).headers;
  const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>;
  for (const [header, c] of Object.entries(HAPROXY_IDENTITY)) {
    if (got[header.toLowerCase()] !== payload[c])
      throw new Error(`${id}: the upstream did not receive ${header}: ${JSON.stringify(got)}`);
  }
  if (got['authorization'] !== undefined)
    throw new Error(`${id}: the Authorization header reached the upstream`);
}

/**
 * A haproxy `jwt_verify` row for `alg`: the measured frontend forwards to the nginx upstream,
 * a second frontend with the same rules to the node echo server (gate only).
 */
function haproxyJwt(alg: IdpAlg): Candidate {
  const id = `haproxy-jwt-${alg.toLowerCase()}`;
  return {
    id,
    label: `haproxy jwt_verify ${alg} + iss/aud/exp/scope, 2 identity headers (C peer, no cache)`,
    floors: [],
    async start(ctx: BenchContext): Promise<RunningCandidate> {
      const idp = await benchIdp(ctx, alg);
      const keyFile = join(ctx.dir, `${id}.pub.pem`);
      writeFileSync(keyFile, publicKeyPem(idp));
      const rules = jwtRules(alg, keyFile, idp);
      const echo = await ctx.echo();
      const [port, gatePort] = [await freePort(), await freePort()];
      const frontends: HaproxyFrontend[] = [
        { name: 'bench', port, rules, serverPort: ctx.upstream.port },
        { name: 'gate', port: gatePort, rules, serverPort: echo.port },
      ];
      const hx = await startHaproxy(id, frontends, { dir: ctx.dir, cpu: ctx.opts.proxyCpu, min: [2, 5] });
      const url = `http://127.0.0.1:${port}`;
      const token = oneToken(idp, 0);
      try {
        await gateJwt(id, url, `http://127.0.0.1:${gatePort}`, idp, token);
      } catch (e) {
        await hx.stop();
        throw e;
      }
      return { pid: hx.pid, load: { url: `${url}/bench`, bearer: token }, stop: () => hx.stop() };
    },
  };
}

/** haproxy `jwt_verify` RS256 (issue 19): the C peer of `gh-rs256-warm` / `gh-rs256-cold`. */
export const haproxyJwtRs256 = haproxyJwt('RS256');
/** haproxy `jwt_verify` ES256 (issue 19): the C peer of `gh-es256-warm` / `gh-es256-cold`. */
export const haproxyJwtEs256 = haproxyJwt('ES256');

/** haproxy plain proxying (no auth, no log): a second C reference next to nginx for `gh-plain`. */
export const haproxyPlain: Candidate = {
  id: 'haproxy-plain',
  label: 'haproxy plain proxy (1 thread, http-reuse always, no log) — C reference',
  floors: [],
  async start(ctx) {
    const port = await freePort();
    const hx = await startHaproxy(
      'haproxy-plain',
      [{ name: 'bench', port, rules: [], serverPort: ctx.upstream.port }],
      {
        dir: ctx.dir,
        cpu: ctx.opts.proxyCpu,
      },
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      await gatePlain('haproxy-plain', url);
    } catch (e) {
      await hx.stop();
      throw e;
    }
    return { pid: hx.pid, load: { url: `${url}/bench` }, stop: () => hx.stop() };
  },
};
