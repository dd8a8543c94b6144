import { verify, constants } from 'node:crypto';
import { jwtVerify, importJWK } from 'jose';
import { pino } from 'pino';
import { startIdp } from '../test/helpers/idp-server.js';
import { providersSchema } from '../src/authn/schema.js';
import { compileProviders } from '../src/authn/providers.js';
import { parseCompactJws } from '../src/authn/jws.js';
import { verifyJwt } from '../src/authn/jwt.js';

for (const alg of ['RS256', 'ES256'] as const) {
  const idp = await startIdp({ algs: [alg] });
  const key = idp.keys[0]!;
  const N = alg === 'RS256' ? 4000 : 3000;
  const now = Math.floor(Date.now() / 1000);
  const toks = Array.from({ length: N }, (_, i) => idp.signRaw({ alg, kid: key.kid, typ: 'at+jwt' }, idp.claims({ jti: `j${i}`, groups: ['g'], email: 'a@b.c', iat: now, exp: now + 3600 }), key));
  const reg = compileProviders(providersSchema.parse({ p: { issuer: idp.issuer, audiences: [idp.audience], jwks_uri: idp.jwksUri } }), { logger: pino({ level: 'silent' }) });
  await reg.start();
  const p = reg.providers.get('p')!;
  const v = reg.verifierFor();
  const cryptoKey = await importJWK(key.jwk, alg);
  const pub = key.publicKey;
  const time = async (label: string, fn: (t: string) => unknown) => {
    for (let i = 0; i < 300; i++) await fn(toks[i % N]!);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn(toks[i]!);
    const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
    console.log(`${alg} ${label}: ${us.toFixed(1)} µs/token`);
  };
  await time('node:crypto verify (signature only)', (t) => {
    const d = t.lastIndexOf('.');
    const sig = Buffer.from(t.slice(d + 1), 'base64url');
    return alg === 'RS256' ? verify('sha256', Buffer.from(t.slice(0, d)), { key: pub, padding: constants.RSA_PKCS1_PADDING }, sig) : verify('sha256', Buffer.from(t.slice(0, d)), { key: pub, dsaEncoding: 'ieee-p1363' }, sig);
  });
  await time('Gatehouse fast path (parse + header + key + verify + claims)', (t) => verifyJwt(p, parseCompactJws(t), Math.floor(Date.now() / 1000)));
  await time('Gatehouse TokenVerifier cold (+sha256, principal, cache insert)', (t) => v.verify(t, { noCache: false }));
  await time('Gatehouse TokenVerifier warm (cache hit)', (t) => v.verify(t));
  await time('jose.jwtVerify (WebCrypto, same checks)', (t) => jwtVerify(t, cryptoKey, { issuer: idp.issuer, audience: idp.audience, algorithms: [alg], clockTolerance: 60, requiredClaims: ['exp'], typ: 'at+jwt' }));
  await reg.close();
  await idp.close();
}
