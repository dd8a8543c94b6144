import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import type { Candidate } from './candidate.js';
import { bearerCandidate } from './cand-bearer.js';

const AUDIENCE = 'https://app.bench.example';
const ISSUER = 'https://gatehouse.bench.example';
const relative = { kind: 'relative', min: 0.9, source: 'issue 5' } as const;

/** Issue 5 baseline: bearer RS256 warm with the group rule and audit, but nothing injected. */
export const authBare: Candidate = bearerCandidate({
  id: 'gh-auth-bare',
  label: 'bearer RS256 warm, no identity headers (plain authenticated)',
  alg: 'RS256',
  cold: false,
  identity: null,
  floors: [],
});

/** Signed identity assertion (ES256 JWT per request, or cached per principal). */
export const assertion: Candidate = bearerCandidate({
  id: 'gh-id-assertion',
  label: 'bearer RS256 warm + signed identity assertion',
  alg: 'RS256',
  cold: false,
  identity: { assertion: { audience: AUDIENCE, groups: 'all' } },
  identityTop: (ctx) => ({
    assertion: { issuer: ISSUER, key_dir: join(ctx.dir, 'assertion-keys'), activation_delay: 0 },
  }),
  async gateUpstream(headers, url) {
    const jwt = headers['x-gatehouse-assertion'];
    if (typeof jwt !== 'string')
      throw new Error(
        `gh-id-assertion: no X-Gatehouse-Assertion reached the upstream: ${JSON.stringify(headers)}`,
      );
    const jwks = createRemoteJWKSet(new URL(`${url}/.well-known/gatehouse/jwks.json`));
    const { payload } = await jwtVerify(jwt, jwks, { issuer: ISSUER, audience: AUDIENCE });
    if (typeof payload.sub !== 'string') throw new Error('gh-id-assertion: assertion without sub');
  },
  relativeTo: 'gh-auth-bare',
  floors: [relative],
});

/** Azure App Service "Easy Auth" headers (X-MS-CLIENT-PRINCIPAL*). */
export const easyAuth: Candidate = bearerCandidate({
  id: 'gh-id-easyauth',
  label: 'bearer RS256 warm + Easy Auth headers',
  alg: 'RS256',
  cold: false,
  identity: { easy_auth: {} },
  gateUpstream(headers) {
    if (
      typeof headers['x-ms-client-principal'] !== 'string' ||
      typeof headers['x-ms-client-principal-name'] !== 'string'
    ) {
      throw new Error(
        `gh-id-easyauth: X-MS-CLIENT-PRINCIPAL headers missing upstream: ${JSON.stringify(headers)}`,
      );
    }
  },
  relativeTo: 'gh-auth-bare',
  floors: [],
});
