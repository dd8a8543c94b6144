/**
 * Micro-benchmark of the bearer verifier alone (no HTTP): µs per `verify` for a warm token
 * (cache hit) and for cold tokens (every call a new token, LRU churning), next to the bare
 * node:crypto signature check. `node --import tsx bench/verify-micro.ts [RS256|ES256]`.
 */
import { verify as cryptoVerify, constants } from 'node:crypto';
import pino from 'pino';
import { compileProviders } from '../src/authn/providers.js';
import { providersSchema } from '../src/authn/schema.js';
import { makeTokens, providerFor, startJwksServer, type IdpAlg } from './tokens.js';

const alg = (process.argv[2] ?? 'RS256') as IdpAlg;
const idp = await startJwksServer(alg);
const registry = compileProviders(
  providersSchema.parse({ bench: { ...providerFor(idp), algorithms: [alg] } }),
  { logger: pino({ level: 'silent' }) },
);
await registry.start();
const verifier = registry.verifierFor(['bench']);
const claims = { name: 'Bench User', groups: ['bench-users', 'staff'] };
const tokens = makeTokens(idp, 20_000, claims);

function time(label: string, n: number, fn: (i: number) => unknown): void {
  for (let i = 0; i < Math.min(n, 5000); i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const us = Number(process.hrtime.bigint() - t0) / n / 1000;
  console.log(`${label.padEnd(28)} ${us.toFixed(2)} µs`);
}

const key = idp.keys[0]!;
const sigOnly = tokens.map((t) => {
  const b = t.lastIndexOf('.');
  return [Buffer.from(t.slice(0, b), 'latin1'), Buffer.from(t.slice(b + 1), 'base64url')] as const;
});
const opts = alg.startsWith('ES')
  ? { key: key.publicKey, dsaEncoding: 'ieee-p1363' as const }
  : { key: key.publicKey, padding: constants.RSA_PKCS1_PADDING };
for (let r = 0; r < 3; r++) {
  time(`${alg} node:crypto verify`, 20_000, (i) => {
    const [d, s] = sigOnly[i % sigOnly.length]!;
    return cryptoVerify('sha256', d, opts, s);
  });
  time(`${alg} verifier, warm`, 200_000, () => verifier.verify(tokens[0]!));
  time(`${alg} verifier, cold`, 40_000, (i) => verifier.verify(tokens[i % tokens.length]!));
}

await registry.close();
await idp.close();
