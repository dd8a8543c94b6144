import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Lru } from '../../src/util/lru.js';

/** Reference model: an array ordered from least to most recently used. */
class ModelLru {
  entries: Array<[number, number]> = [];
  constructor(readonly max: number) {}
  get(k: number): number | undefined {
    const i = this.entries.findIndex(([key]) => key === k);
    if (i < 0) return undefined;
    const [e] = this.entries.splice(i, 1) as [[number, number]];
    this.entries.push(e);
    return e[1];
  }
  peek(k: number): number | undefined {
    return this.entries.find(([key]) => key === k)?.[1];
  }
  set(k: number, v: number): void {
    if (this.max <= 0) return;
    this.delete(k);
    this.entries.push([k, v]);
    if (this.entries.length > this.max) this.entries.shift();
  }
  delete(k: number): boolean {
    const i = this.entries.findIndex(([key]) => key === k);
    if (i >= 0) this.entries.splice(i, 1);
    return i >= 0;
  }
  shift(): [number, number] | undefined {
    return this.entries.shift();
  }
}

describe('Lru', () => {
  it('evicts the least recently used entry, where get (not peek) refreshes recency', () => {
    const lru = new Lru<string, number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    assert.equal(lru.get('a'), 1);
    assert.equal(lru.peek('b'), 2);
    lru.set('d', 4);
    assert.equal(lru.get('b'), undefined, 'b was least recently used (peek does not refresh)');
    assert.deepEqual([lru.get('a'), lru.get('c'), lru.get('d')], [1, 3, 4]);
    assert.equal(lru.size, 3);
  });

  it('overwrites in place, deletes, shifts the oldest and reuses freed slots', () => {
    const lru = new Lru<string, number>(10);
    for (const [i, k] of ['a', 'b', 'c'].entries()) lru.set(k, i);
    lru.set('a', 9);
    assert.equal(lru.size, 3);
    assert.deepEqual(lru.shift(), ['b', 1]);
    assert.equal(lru.delete('c'), true);
    assert.equal(lru.delete('c'), false);
    lru.set('e', 5);
    lru.set('f', 6);
    assert.deepEqual(
      [lru.shift(), lru.shift(), lru.shift(), lru.shift()],
      [['a', 9], ['e', 5], ['f', 6], undefined],
    );
    assert.equal(lru.size, 0);
  });

  it('stores nothing with max 0, and clear empties it', () => {
    const none = new Lru<string, number>(0);
    none.set('a', 1);
    assert.equal(none.get('a'), undefined);
    const lru = new Lru<string, number>(2);
    lru.set('a', 1);
    lru.clear();
    assert.equal(lru.size, 0);
    assert.equal(lru.get('a'), undefined);
    lru.set('b', 2);
    assert.equal(lru.get('b'), 2);
  });

  it('behaves exactly like a reference model under any sequence of operations', () => {
    const op = fc.oneof(
      fc.record({ t: fc.constant('get' as const), k: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ t: fc.constant('peek' as const), k: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ t: fc.constant('set' as const), k: fc.integer({ min: 0, max: 12 }), v: fc.integer() }),
      fc.record({ t: fc.constant('delete' as const), k: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ t: fc.constant('shift' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.array(op, { maxLength: 200 }), (max, ops) => {
        const lru = new Lru<number, number>(max);
        const model = new ModelLru(max);
        for (const o of ops) {
          switch (o.t) {
            case 'get':
              assert.equal(lru.get(o.k), model.get(o.k));
              break;
            case 'peek':
              assert.equal(lru.peek(o.k), model.peek(o.k));
              break;
            case 'set':
              lru.set(o.k, o.v);
              model.set(o.k, o.v);
              break;
            case 'delete':
              assert.equal(lru.delete(o.k), model.delete(o.k));
              break;
            case 'shift':
              assert.deepEqual(lru.shift(), model.shift());
              break;
          }
          assert.equal(lru.size, model.entries.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});
