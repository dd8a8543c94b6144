import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_TOKEN_CACHE_ENTRIES,
  makeTokens,
  providerFor,
  startJwksServer,
  type IdpAlg,
  type IdpServer,
} from '../tokens.js';
import type { BenchContext, Candidate, RunningCandidate } from './candidate.js';
import { shared } from './candidate.js';
import { GATE_PATH, launchGatehouse } from './cand-core.js';
import type { FloorSpec } from './floors.js';
import { expectStatus, httpGet } from './http.js';
import { UPSTREAM_BODY } from './nginx.js';

/** The three identity headers every bearer candidate injects (issue 3 benchmark). */
export const IDENTITY_HEADERS = {
  'X-Auth-User': '{sub}',
  'X-Auth-Email': '{email}',
  'X-Auth-Groups': '{groups}',
} as const;
const GROUP = 'bench-users';
/** Scope every bench token carries; the haproxy peers require it (403 without). */
export const BENCH_SCOPE = 'bench.read';

/** A JWKS-publishing IdP stand-in per algorithm, in the runner process (hit only at start). */
export function benchIdp(ctx: BenchContext, alg: IdpAlg): Promise<IdpServer> {
  return shared(ctx, `idp-${alg}`, async () => {
    const idp = await startJwksServer(alg);
    ctx.cleanup(() => idp.close());
    return idp;
  });
}

/**
 * Claims every bench token carries besides the standard ones (the group rule needs GROUP, the
 * haproxy peers the scope): Gatehouse and haproxy rows send tokens of the same shape and size.
 */
const USER_CLAIMS = { name: 'Bench User', groups: [GROUP, 'staff'], scope: `openid ${BENCH_SCOPE}` };

/** One valid token of the bench IdP with `extra` claims (jti distinct by `n`). */
export function oneToken(idp: IdpServer, n: number, extra: Record<string, unknown> = {}): string {
  return makeTokens(idp, 1, { ...USER_CLAIMS, jti: `bench-gate-${n}`, ...extra })[0] as string;
}

/**
 * A file of distinct valid tokens (one per line), signed once per run and algorithm: at least
 * twice the verified-token cache, so cycling through them in order misses the LRU every time.
 */
function tokenFile(ctx: BenchContext, idp: IdpServer, alg: IdpAlg): Promise<{ file: string; first: string }> {
  return shared(ctx, `tokens-${alg}`, async () => {
    const count = Math.max(ctx.opts.coldTokens, 2 * DEFAULT_TOKEN_CACHE_ENTRIES);
    const t0 = Date.now();
    const lines = makeTokens(idp, count, USER_CLAIMS);
    const file = join(ctx.dir, `tokens-${alg}.txt`);
    writeFileSync(file, lines.join('\n') + '\n');
    ctx.log(`  signed ${count} ${alg} tokens in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return { file, first: lines[0] as string };
  });
}

/** Options of one bearer candidate. */
export interface BearerVariant {
  readonly id: string;
  readonly label: string;
  readonly alg: IdpAlg;
  readonly cold: boolean;
  /** Route `identity` section; default: the three {@link IDENTITY_HEADERS}. `null`: none. */
  readonly identity?: Record<string, unknown> | null | undefined;
  /** Top-level `identity` section (assertion issuer/keys). */
  readonly identityTop?: ((ctx: BenchContext) => Record<string, unknown>) | undefined;
  /** Extra gate checks on what the upstream received. */
  readonly gateUpstream?:
    ((headers: Record<string, unknown>, gatehouseUrl: string) => void | Promise<void>) | undefined;
  readonly relativeTo?: string | undefined;
  readonly floors: readonly FloorSpec[];
}

/** The correctness gate of an authenticated candidate. */
async function gateBearer(v: BearerVariant, url: string, idp: IdpServer, token: string): Promise<void> {
  const auth = (t: string) => ({ authorization: `Bearer ${t}` });
  expectStatus(`${v.id}: GET /bench without a token`, await httpGet(`${url}/bench`), 401);
  const [h, p, s] = token.split('.');
  const forged = `${h}.${p}.${(s ?? '').startsWith('A') ? 'B' : 'A'}${(s ?? '').slice(1)}`;
  expectStatus(
    `${v.id}: GET /bench with a forged signature`,
    await httpGet(`${url}/bench`, auth(forged)),
    401,
  );
  expectStatus(
    `${v.id}: GET /bench with an expired token`,
    await httpGet(`${url}/bench`, auth(oneToken(idp, 1, { exp: 1000, iat: 900 }))),
    401,
  );
  const outsider = oneToken(idp, 2, { groups: ['staff'] });
  expectStatus(
    `${v.id}: GET /bench, token without group ${GROUP}`,
    await httpGet(`${url}/bench`, auth(outsider)),
    403,
  );
  const ok = await httpGet(`${url}/bench`, auth(token));
  expectStatus(`${v.id}: GET /bench with a valid token`, ok, 200);
  if (ok.body !== UPSTREAM_BODY)
    throw new Error(`${v.id}: body differs from the upstream's: ${JSON.stringify(ok.body.slice(0, 200))}`);
  const echo = await httpGet(`${url}${GATE_PATH}/x`, {
    ...auth(token),
    'x-auth-user': 'forged',
    x_auth_user: 'forged',
  });
  expectStatus(`${v.id}: GET ${GATE_PATH} with a valid token`, echo, 200);
  const got = (JSON.parse(echo.body) as { headers: Record<string, unknown> }).headers;
  if (v.identity === undefined) {
    const payload = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as {
      sub: string;
      email: string;
    };
    if (
      got['x-auth-user'] !== payload.sub ||
      got['x-auth-email'] !== payload.email ||
      got['x-auth-groups'] !== `${GROUP},staff`
    ) {
      throw new Error(`${v.id}: the upstream did not receive the identity headers: ${JSON.stringify(got)}`);
    }
    if (got['x_auth_user'] !== undefined)
      throw new Error(`${v.id}: a forged X_Auth_User header reached the upstream`);
  }
  await v.gateUpstream?.(got, url);
}

/** Builds a bearer-authenticated candidate: signature, claims, a group rule, identity, audit. */
export function bearerCandidate(v: BearerVariant): Candidate {
  return {
    id: v.id,
    label: v.label,
    relativeTo: v.relativeTo,
    floors: v.floors,
    async start(ctx): Promise<RunningCandidate> {
      const idp = await benchIdp(ctx, v.alg);
      const tokens = v.cold ? await tokenFile(ctx, idp, v.alg) : undefined;
      const token = tokens?.first ?? oneToken(idp, 0);
      const identity = v.identity === null ? undefined : (v.identity ?? { headers: IDENTITY_HEADERS });
      const route = {
        auth: 'bearer',
        providers: ['bench'],
        policy: 'bench-users',
        ...(identity ? { identity } : {}),
      };
      const top = {
        providers: {
          bench: { ...providerFor(idp), algorithms: [v.alg] },
        },
        policies: {
          'bench-users': { rules: [{ name: 'bench-group', effect: 'allow', when: { group: GROUP } }] },
        },
        ...(v.identityTop ? { identity: v.identityTop(ctx) } : {}),
      };
      const { gh, logFiles } = await launchGatehouse(ctx, v.id, { route, top, audit: true });
      try {
        await gateBearer(v, gh.url, idp, token);
      } catch (e) {
        await gh.stop();
        throw e;
      }
      const load = tokens
        ? { url: `${gh.url}/bench`, tokenFile: tokens.file }
        : { url: `${gh.url}/bench`, bearer: token };
      return { pid: gh.pid, load, logFiles, stop: () => gh.stop() };
    },
  };
}

const warmFloor: FloorSpec = { kind: 'ratio', min: 0.4, source: 'issue 3' };
/** Issue 19: Gatehouse against the C peer of the same algorithm, paired per round. */
const vsHaproxy = (to: string, min: number): FloorSpec => ({ kind: 'relative', to, min, source: 'issue 19' });

/** Issue 3: RS256/ES256, warm (one token) and cold (every request a new token). */
export const bearerCandidates: readonly Candidate[] = [
  bearerCandidate({
    id: 'gh-rs256-warm',
    label: 'bearer RS256, token cache warm (3 identity headers)',
    alg: 'RS256',
    cold: false,
    relativeTo: 'gh-auth-bare',
    floors: [
      warmFloor,
      { kind: 'relative', min: 0.9, source: 'issue 5 (headers)' },
      vsHaproxy('haproxy-jwt-rs256', 1.2),
    ],
  }),
  bearerCandidate({
    id: 'gh-rs256-cold',
    label: 'bearer RS256, cold (every request a new token)',
    alg: 'RS256',
    cold: true,
    floors: [{ kind: 'ratio', min: 0.25, source: 'issue 3' }, vsHaproxy('haproxy-jwt-rs256', 0.9)],
  }),
  bearerCandidate({
    id: 'gh-es256-warm',
    label: 'bearer ES256, token cache warm',
    alg: 'ES256',
    cold: false,
    floors: [warmFloor, vsHaproxy('haproxy-jwt-es256', 1.2)],
  }),
  bearerCandidate({
    id: 'gh-es256-cold',
    label: 'bearer ES256, cold (every request a new token)',
    alg: 'ES256',
    cold: true,
    floors: [{ kind: 'ratio', min: 0.17, source: 'issue 3' }, vsHaproxy('haproxy-jwt-es256', 1.0)],
  }),
];
