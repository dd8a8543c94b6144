import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoNow, jsonString } from '../../src/log/json.js';

describe('log line pieces', () => {
  it('jsonString is JSON.stringify for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
        assert.equal(jsonString(s), JSON.stringify(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('isoNow formats the time exactly as Date.prototype.toISOString', () => {
    const before = Date.now();
    const t = isoNow();
    const after = Date.now();
    assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const ms = Date.parse(t);
    assert.ok(ms >= before && ms <= after, `${t} between ${before} and ${after}`);
    assert.equal(new Date(ms).toISOString(), t);
  });
});
