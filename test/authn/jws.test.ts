/**
 * The compact JWS parser's header memo: a repeated protected header is decoded once, and the
 * memo never makes the parser more lenient (non-canonical spellings, non-objects, many distinct
 * headers all behave exactly as without it).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseError } from '../../src/errors/index.js';
import { isCanonicalB64url, parseCompactJws } from '../../src/authn/jws.js';

const b64 = (v: string) => Buffer.from(v).toString('base64url');
const PAYLOAD = b64(JSON.stringify({ iss: 'https://idp.example', sub: 'alice', exp: 2_000_000_000 }));
const SIG = b64('not-a-real-signature');

function token(header: string, payload = PAYLOAD): string {
  return `${header}.${payload}.${SIG}`;
}

function malformed(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof GatehouseError, 'e instanceof GatehouseError');
    assert.equal(e.code, 'GH_TOKEN_MALFORMED');
    assert.deepEqual(e.reasons, ['token.malformed']);
    return true;
  });
}

/** A header whose base64url text ends in a partial group (so a non-canonical spelling exists). */
function partialGroupHeader(kid: string): string {
  for (let pad = ''; ; pad += 'x') {
    const h = b64(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: kid + pad }));
    if (h.length % 4 !== 0) return h;
  }
}

/** The same bytes with non-zero unused low bits in the last character (RFC 4648 §3.5). */
function nonCanonical(seg: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(seg.at(-1) as string);
  const variant = seg.slice(0, -1) + (alphabet[last + 1] as string);
  assert.equal(Buffer.from(variant, 'base64url').equals(Buffer.from(seg, 'base64url')), true);
  assert.equal(isCanonicalB64url(variant), false);
  return variant;
}

describe('parseCompactJws header memo', () => {
  it('decodes a repeated header once and hands out a frozen object with the right values', () => {
    const h = partialGroupHeader('memo-1');
    const first = parseCompactJws(token(h));
    const second = parseCompactJws(token(h));
    assert.equal(second.header, first.header);
    assert.equal(Object.isFrozen(first.header), true);
    assert.deepEqual({ ...second.header }, { alg: 'RS256', typ: 'at+jwt', kid: first.header.kid });
    assert.throws(() => {
      (first.header as Record<string, unknown>).alg = 'none';
    }, TypeError);
    assert.equal(parseCompactJws(token(h)).header.alg, 'RS256');
  });

  it('still rejects a non-canonical spelling of a header it has already decoded', () => {
    const h = partialGroupHeader('memo-2');
    parseCompactJws(token(h));
    malformed(() => parseCompactJws(token(nonCanonical(h))));
  });

  it('rejects a header that is not a JSON object every time it is seen', () => {
    for (const bad of [b64('[1,2]'), b64('"alg"'), b64('{"alg":'), b64('null')]) {
      malformed(() => parseCompactJws(token(bad)));
      malformed(() => parseCompactJws(token(bad)));
    }
  });

  it('parses correctly through many distinct headers (the memo starts over when full)', () => {
    const hs = Array.from({ length: 300 }, (_, i) => partialGroupHeader(`many-${i}`));
    for (let round = 0; round < 2; round++) {
      hs.forEach((h, i) => {
        const kid = parseCompactJws(token(h)).header.kid as string;
        assert.ok(kid.startsWith(`many-${i}`), `header ${i}: kid ${kid}`);
      });
    }
  });

  it('decodes the payload of every token afresh', () => {
    const h = partialGroupHeader('memo-3');
    const a = parseCompactJws(token(h, b64(JSON.stringify({ sub: 'alice' }))));
    const b = parseCompactJws(token(h, b64(JSON.stringify({ sub: 'bob' }))));
    assert.equal(a.claims.sub, 'alice');
    assert.equal(b.claims.sub, 'bob');
    assert.equal(Object.isFrozen(b.claims), false);
  });
});
