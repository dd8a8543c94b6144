/**
 * Differential proof that the synchronous node:crypto fast path is exactly as strict as
 * `jose.jwtVerify`: valid, mutated and attack tokens go to both, and accept/reject must agree.
 *
 * The reference is `jose.jwtVerify` with the equivalent options (issuer, audience, algorithms,
 * clockTolerance, maxTokenAge, typ, requiredClaims: exp, a local JWKS) plus Gatehouse's few
 * documented policies that jose has no option for, written here independently of src/:
 * canonical unpadded base64url (RFC 7515 §2), no `crit`, no `jwk`/`jku`/`x5u`/`x5c`, `typ`
 * absent/JWT/at+jwt unless required_typ is set, no `nonce` (ID tokens), `iat` not in the future,
 * time claims that are plausible dates in seconds (0 to 9999-12-31) and a lifetime (`exp` minus
 * `iat`, else `nbf`, else now + skew) within the default `max_token_lifetime` of 24 hours.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHmac, sign, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { pino } from 'pino';
import { generateIdpKey, type IdpKey } from '../helpers/idp-server.js';
import { compileProvider, type Provider } from '../../src/authn/provider.js';
import { providerSchema } from '../../src/authn/schema.js';
import { parseCompactJws } from '../../src/authn/jws.js';
import { verifyJwt } from '../../src/authn/jwt.js';

const ISS = 'https://idp.example/tenant/v2.0';
const AUD = 'api://orders';
const NOW = 1_750_000_000;
const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

interface Setup {
  readonly provider: Provider;
  readonly jwks: { keys: JWK[] };
  readonly cfg: { skew: number; maxAge?: number; typ?: string; algorithms: string[] };
}

const keys: Record<string, IdpKey> = {};
const setups: Setup[] = [];

async function fast(s: Setup, token: string): Promise<boolean> {
  try {
    await verifyJwt(s.provider, parseCompactJws(token), NOW);
    return true;
  } catch {
    return false;
  }
}

async function reference(s: Setup, token: string): Promise<boolean> {
  const segs = token.split('.');
  if (
    segs.length !== 3 ||
    segs.some((x) => !/^[A-Za-z0-9_-]+$/.test(x) || Buffer.from(x, 'base64url').toString('base64url') !== x)
  )
    return false;
  let h: Record<string, unknown>;
  try {
    h = decodeProtectedHeader(token) as Record<string, unknown>;
  } catch {
    return false;
  }
  if ('crit' in h || 'jwk' in h || 'jku' in h || 'x5u' in h || 'x5c' in h) return false;
  if (s.cfg.typ === undefined && h.typ !== undefined) {
    if (
      typeof h.typ !== 'string' ||
      !['jwt', 'at+jwt', 'application/jwt', 'application/at+jwt'].includes(h.typ.toLowerCase())
    )
      return false;
  }
  const getKey = createLocalJWKSet(s.jwks);
  try {
    const { payload } = await jwtVerify(token, getKey, {
      issuer: ISS,
      audience: AUD,
      algorithms: s.cfg.algorithms,
      clockTolerance: s.cfg.skew,
      requiredClaims: ['exp'],
      currentDate: new Date(NOW * 1000),
      ...(s.cfg.maxAge !== undefined ? { maxTokenAge: s.cfg.maxAge } : {}),
      ...(s.cfg.typ !== undefined ? { typ: s.cfg.typ } : {}),
    });
    if (payload.nonce !== undefined) return false;
    if (typeof payload.iat === 'number' && payload.iat > NOW + s.cfg.skew) return false;
    const times = [payload.exp, payload.nbf, payload.iat].filter((v) => v !== undefined) as number[];
    if (times.some((v) => !(v >= 0 && v <= 253_402_300_799))) return false;
    const exp = payload.exp as number;
    const from = payload.iat ?? payload.nbf;
    if ((from === undefined ? exp - NOW - s.cfg.skew : exp - from) > 86_400) return false;
    return true;
  } catch {
    return false;
  }
}

function signWith(alg: string, input: string, key: KeyObject | Buffer, variant = 0): Buffer {
  const data = Buffer.from(input);
  const hash = `sha${alg.slice(-3)}`;
  if (alg.startsWith('HS'))
    return createHmac(hash, key as Buffer)
      .update(data)
      .digest();
  const k = key as KeyObject;
  if (alg === 'EdDSA' || alg === 'Ed25519') return sign(null, data, k);
  if (alg.startsWith('ES'))
    return sign(hash, data, { key: k, dsaEncoding: variant === 1 ? 'der' : 'ieee-p1363' });
  if (alg.startsWith('PS')) {
    const salt = [Number(alg.slice(-3)) / 8, 0, 20, constants.RSA_PSS_SALTLEN_MAX_SIGN][
      variant % 4
    ] as number;
    return sign(hash, data, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: salt });
  }
  return sign(hash, data, k);
}

interface Spec {
  header: Record<string, unknown>;
  payload: Record<string, unknown> | string;
  signer: string;
  signAlg: string;
  variant: number;
  mutation: number;
  pos: number;
}

function build(spec: Spec): string {
  const input = `${b64(JSON.stringify(spec.header))}.${typeof spec.payload === 'string' ? b64(spec.payload) : b64(JSON.stringify(spec.payload))}`;
  let sig: Buffer;
  if (spec.signer === 'none') sig = Buffer.alloc(0);
  else if (spec.signer === 'pem')
    sig = signWith(
      'HS256',
      input,
      Buffer.from((keys.r1 as IdpKey).publicKey.export({ type: 'spki', format: 'pem' }) as string),
    );
  else {
    const k = keys[spec.signer] as IdpKey;
    try {
      sig = signWith(spec.signAlg, input, k.privateKey, spec.variant);
    } catch {
      sig = signWith(k.alg, input, k.privateKey);
    }
  }
  return mutate(`${input}.${b64(sig)}`, spec.mutation, spec.pos);
}

function mutate(t: string, m: number, pos: number): string {
  const i = pos % Math.max(t.length, 1);
  const c = t[i] ?? 'A';
  switch (m) {
    case 1: // flip one character (bit flip in header, payload or signature)
      return t.slice(0, i) + String.fromCharCode(c.charCodeAt(0) ^ (1 << (pos % 6))) + t.slice(i + 1);
    case 2:
      return `${t}=`;
    case 3:
      return t.slice(0, i) + ' ' + t.slice(i);
    case 4:
      return t.replace('-', '+').replace('_', '/');
    case 5:
      return t.replace('.', '..');
    case 6:
      return t.slice(0, t.length - 1 - (pos % 4));
    case 7: // change the unused low bits of the last signature character (non-canonical base64)
      return t.slice(0, -1) + String.fromCharCode(t.charCodeAt(t.length - 1) ^ 1);
    case 8:
      return t.slice(0, t.lastIndexOf('.') + 1);
    case 9:
      return `${t.split('.').slice(0, 2).join('.')}.${b64(Buffer.alloc(pos % 300, 7))}`;
    default:
      return t;
  }
}

const weighted = <T>(good: T, ...bad: T[]) =>
  fc.oneof(
    { weight: bad.length * 12, arbitrary: fc.constant(good) },
    ...bad.map((b) => ({ weight: 1, arbitrary: fc.constant(b) })),
  );
const maybe = <T>(v: T) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(v) });

const specArb = fc
  .record({
    signer: weighted('r1', 'r2', 'e1', 'd1', 'd2', 'evil', 'none', 'pem', 'e2'),
    alg: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'RS256',
          'PS256',
          'ES256',
          'EdDSA',
          'Ed25519',
          'RS384',
          'ES384',
          'HS256',
          'none',
          'NONE',
          'PS384',
        ),
      },
    ),
    kid: fc.oneof(
      { weight: 14, arbitrary: fc.constant('match') },
      { weight: 1, arbitrary: fc.constantFrom('r1', 'r2', 'e1', 'd1', 'unknown', 123, null) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    typ: weighted<unknown>(
      'at+jwt',
      undefined,
      'JWT',
      'jwt',
      'application/at+jwt',
      'AT+JWT',
      'dpop+jwt',
      'id_token',
      5,
      '',
    ),
    extra: weighted<Record<string, unknown>>(
      {},
      { crit: ['exp'] },
      { crit: ['b64'], b64: true },
      { jku: 'https://evil/jwks' },
      { x5u: 'https://evil/c' },
      { x5c: ['MIIB'] },
      { b64: false },
      { cty: 'JWT' },
      { zip: 'DEF' },
    ),
    iss: weighted<unknown>(ISS, 'https://evil', `${ISS}/`, 7, null, undefined),
    aud: weighted<unknown>(AUD, [AUD, 'x'], ['x', AUD, 5], 'x', [], undefined, 5, ['x']),
    exp: weighted<unknown>(
      NOW + 600,
      NOW - 29,
      NOW - 30,
      NOW - 31,
      NOW + 1,
      undefined,
      `${NOW + 600}`,
      true,
      NOW + 0.5,
      -1,
      1e300,
      NOW + 86_400 - 10,
      NOW + 86_400 + 40,
      (NOW + 600) * 1000,
    ),
    nbfV: fc.constantFrom(NOW + 29, NOW + 30, NOW + 31, NOW - 100, 'x', null),
    hasNbf: fc.oneof(
      { weight: 4, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
    iat: weighted<unknown>(
      NOW - 10,
      NOW + 29,
      NOW + 31,
      NOW - 599,
      NOW - 631,
      NOW - 700,
      undefined,
      'now',
      NOW + 30.5,
    ),
    nonce: maybe('n-1'),
    sub: weighted<unknown>('user-1', 42, undefined),
    rawPayload: fc.oneof(
      { weight: 30, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '[]',
          'null',
          '"s"',
          '{"exp":1e400,"iss":"' + ISS + '","aud":"' + AUD + '"}',
          '\ufeff{}',
          '{"a":1,"a":2}',
        ),
      },
    ),
    variant: fc.oneof(
      { weight: 6, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
    ),
    mutation: fc.oneof(
      { weight: 12, arbitrary: fc.constant(0) },
      { weight: 9, arbitrary: fc.integer({ min: 1, max: 9 }) },
    ),
    pos: fc.nat(2000),
  })
  .map((r): Spec => {
    const key = keys[r.signer];
    const signAlg = r.alg ?? (r.signer === 'pem' ? 'HS256' : (key?.alg ?? 'RS256'));
    const kid = r.kid === 'match' ? (key?.jwk.kid ?? undefined) : r.kid;
    const header: Record<string, unknown> = { alg: signAlg, ...r.extra };
    if (kid !== undefined) header.kid = kid;
    if (r.typ !== undefined) header.typ = r.typ;
    const claims: Record<string, unknown> = {
      iss: r.iss,
      aud: r.aud,
      exp: r.exp,
      iat: r.iat,
      sub: r.sub,
      nonce: r.nonce,
    };
    if (r.hasNbf) claims.nbf = r.nbfV;
    for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
    return {
      header,
      payload: r.rawPayload ?? claims,
      signer: r.signer,
      signAlg,
      variant: r.variant,
      mutation: r.mutation,
      pos: r.pos,
    };
  });

describe('differential: fast path vs jose.jwtVerify', () => {
  before(async () => {
    keys.r1 = await generateIdpKey('RS256', 'r1');
    const r2 = await generateIdpKey('PS256', 'r2');
    delete r2.jwk.alg;
    keys.r2 = r2;
    keys.e1 = await generateIdpKey('ES256', 'e1');
    keys.e2 = await generateIdpKey('ES256', 'e2-unpublished');
    const e3 = await generateIdpKey('ES256', 'e3');
    delete e3.jwk.kid;
    keys.d1 = await generateIdpKey('EdDSA', 'd1');
    const d2 = await generateIdpKey('EdDSA', 'd2');
    delete d2.jwk.alg;
    keys.d2 = d2;
    keys.evil = await generateIdpKey('RS256', 'evil');
    const encKey = await generateIdpKey('RS256', 'enc', { use: 'enc' });
    const jwks = { keys: [keys.r1.jwk, r2.jwk, keys.e1.jwk, e3.jwk, keys.d1.jwk, d2.jwk, encKey.jwk] };
    const configs = [
      { algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'ES384'], clock_skew: '30s' },
      {
        algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
        clock_skew: 0,
        max_token_age: '10m',
        required_typ: 'at+jwt',
      },
      { algorithms: ['ES256', 'EdDSA', 'PS256'], clock_skew: '30s', max_token_age: 600 * 1000 },
    ];
    for (const c of configs) {
      const cfg = providerSchema.parse({
        issuer: ISS,
        audiences: [AUD],
        jwks_uri: 'https://idp.example/jwks',
        reject_id_tokens: true,
        ...c,
      });
      const provider = compileProvider('p', cfg, {
        logger: pino({ level: 'silent' }),
        fetchJson: async () => jwks,
      });
      await provider.start();
      setups.push({
        provider,
        jwks: jwks as { keys: JWK[] },
        cfg: {
          skew: cfg.clock_skew / 1000,
          maxAge: cfg.max_token_age === undefined ? undefined : cfg.max_token_age / 1000,
          typ: cfg.required_typ,
          algorithms: cfg.algorithms,
        },
      });
    }
  });

  it('agrees with jose on thousands of valid, mutated and attack tokens', async () => {
    const tally = { accepted: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(specArb, fc.nat(setups.length - 1), async (spec, si) => {
        const s = setups[si] as Setup;
        const token = build(spec);
        const [mine, ref] = [await fast(s, token), await reference(s, token)];
        if (mine) tally.accepted++;
        else tally.rejected++;
        assert.equal(
          mine,
          ref,
          `fast path ${mine ? 'accepted' : 'rejected'} but jose ${ref ? 'accepted' : 'rejected'}: ${token}\nheader ${JSON.stringify(spec.header)}`,
        );
      }),
      { numRuns: 4000 },
    );
    assert.ok(tally.accepted > 300, `the generator must produce many valid tokens (got ${tally.accepted})`);
    assert.ok(tally.rejected > 1000, `and many invalid ones (got ${tally.rejected})`);
  });

  after(async () => {
    for (const s of setups) await s.provider.close();
  });
});
