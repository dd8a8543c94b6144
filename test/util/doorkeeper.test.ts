import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Doorkeeper } from '../../src/util/doorkeeper.js';

const pair = (b: Buffer): [number, number] => [b.readUInt32BE(0), b.readUInt32BE(4)];

describe('Doorkeeper', () => {
  it('says "seen" only from the second sighting of a key', () => {
    const d = new Doorkeeper(100);
    const k = pair(randomBytes(8));
    assert.equal(d.seen(...k), false);
    assert.equal(d.seen(...k), true);
    assert.equal(d.seen(...k), true);
  });

  it('keeps false positives rare up to its capacity, then starts over', () => {
    const cap = 10_000;
    const d = new Doorkeeper(cap);
    const keys = Array.from({ length: cap }, () => pair(randomBytes(8)));
    let falsePositives = 0;
    for (const k of keys) if (d.seen(...k)) falsePositives++;
    assert.ok(falsePositives < cap * 0.03, `${falsePositives} false positives in ${cap} new keys`);
    assert.ok(
      keys.every((k) => d.seen(...k)),
      'every key of the current generation is remembered',
    );
    for (let i = 0; i <= falsePositives + 1; i++) d.seen(...pair(randomBytes(8)));
    const remembered = keys.filter((k) => d.seen(...k)).length;
    assert.ok(remembered < cap * 0.03, `${remembered} of ${cap} keys still remembered after the reset`);
  });
});
