import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IdSource,
  formatTraceparent,
  parseTraceparent,
  sampledByRatio,
} from '../../src/tracing/propagation.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const S = '00f067aa0ba902b7';

test('traceparent: valid version 00, flags read from the low bit', () => {
  assert.deepEqual(parseTraceparent(`00-${T}-${S}-01`), { traceId: T, spanId: S, sampled: true });
  assert.deepEqual(parseTraceparent(`00-${T}-${S}-00`), { traceId: T, spanId: S, sampled: false });
  assert.equal(parseTraceparent(`00-${T}-${S}-03`)?.sampled, true);
});

test('traceparent: a later version is read by its version-00 prefix (W3C §4.3)', () => {
  assert.equal(parseTraceparent(`01-${T}-${S}-01`)?.traceId, T);
  assert.equal(parseTraceparent(`cc-${T}-${S}-01-what-the-future-adds`)?.spanId, S);
  assert.equal(parseTraceparent(`cc-${T}-${S}-01x`), undefined);
});

test('traceparent: everything else is invalid (a new trace starts)', () => {
  for (const bad of [
    undefined,
    ['a', 'b'],
    '',
    `ff-${T}-${S}-01`,
    `00-${T}-${S}-01-`,
    `00-${T}-${S}-1`,
    `00-${'0'.repeat(32)}-${S}-01`,
    `00-${T}-${'0'.repeat(16)}-01`,
    `00-${T.toUpperCase()}-${S}-01`,
    `00-${T}-${S}-0g`,
    `00_${T}-${S}-01`,
    `0x-${T}-${S}-01`,
    `00-${T}-${S}-01, 00-${T}-${S}-01`,
  ])
    assert.equal(parseTraceparent(bad as string | undefined), undefined, String(bad));
});

test('formatted traceparents parse back', () => {
  const ids = new IdSource();
  for (let i = 0; i < 2000; i++) {
    const t = ids.traceId();
    const s = ids.spanId();
    assert.match(t, /^[0-9a-f]{32}$/);
    assert.match(s, /^[0-9a-f]{16}$/);
    assert.deepEqual(parseTraceparent(formatTraceparent(t, s, i % 2 === 0)), {
      traceId: t,
      spanId: s,
      sampled: i % 2 === 0,
    });
  }
});

test('sample_ratio: decided on the trace id, so every hop agrees; about the ratio of random ids', () => {
  const ids = new IdSource();
  let n = 0;
  for (let i = 0; i < 20_000; i++) if (sampledByRatio(ids.traceId(), 0.25)) n++;
  assert.ok(n > 4000 && n < 6000, `${n} of 20000 at 0.25`);
  assert.equal(sampledByRatio(T, 0), false);
  assert.equal(sampledByRatio(T, 1), true);
  assert.equal(sampledByRatio(`${'0'.repeat(24)}00000001`, 0.001), true);
  assert.equal(sampledByRatio(`${'0'.repeat(24)}ffffffff`, 0.999), false);
});
