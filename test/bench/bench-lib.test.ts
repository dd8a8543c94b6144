import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrk, luaScript } from '../../bench/lib/wrk.js';
import { median, pairedRatios, cvPercent, valueAt } from '../../bench/lib/stats.js';
import { checkFloor } from '../../bench/lib/floors.js';
import { parseSeconds, readOptions } from '../../bench/lib/options.js';

const WRK = `Running 10s test @ http://127.0.0.1:40000/bench
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms  412.00us  18.31ms   93.12%
    Req/Sec    33.41k     1.12k   35.02k    81.00%
  Latency Distribution
     50%    1.45ms
     75%    1.60ms
     90%    1.83ms
     99%    3.10ms
  332512 requests in 10.00s, 66.27MB read
  Non-2xx or 3xx responses: 12
  Socket errors: connect 0, read 3, write 0, timeout 1
Requests/sec:  33248.91
Transfer/sec:      6.63MB
`;

test('wrk --latency output is parsed into rps, counts and percentiles in ms', () => {
  const r = parseWrk(WRK);
  assert.equal(r.rps, 33248.91);
  assert.equal(r.requests, 332512);
  assert.equal(r.seconds, 10);
  assert.equal(r.latencyAvgMs, 1.52);
  assert.equal(r.p50Ms, 1.45);
  assert.equal(r.p99Ms, 3.1);
  assert.equal(r.non2xx, 12);
  assert.equal(r.socketErrors, 4);
});

test('wrk latency units us and s are converted, and missing --latency is an error', () => {
  const r = parseWrk(WRK.replace('1.45ms', '850.00us').replace('3.10ms', '1.20s'));
  assert.equal(r.p50Ms, 0.85);
  assert.equal(r.p99Ms, 1200);
  assert.throws(() => parseWrk(WRK.replace(/^\s+99%.*$/m, '')), /99% latency/);
});

test('Lua scripts: fixed bearer header, or a token file cycled per request', () => {
  assert.equal(luaScript({ url: 'http://x' }), undefined);
  assert.match(
    luaScript({ url: 'http://x', bearer: 'abc' }) ?? '',
    /wrk\.headers\["Authorization"\] = "Bearer abc"/,
  );
  const cold = luaScript({ url: 'http://x', tokenFile: '/tmp/t.txt' }) ?? '';
  assert.match(cold, /io\.lines\("\/tmp\/t\.txt"\)/);
  assert.match(cold, /request = function/);
  const post = luaScript({ url: 'http://x', postBody: 'xy"z' }) ?? '';
  assert.match(post, /wrk\.method = "POST"/);
  assert.match(post, /wrk\.body = "xy\\"z"/);
});

test('medians and paired ratios skip failed rounds', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([])), 'Number.isNaN(median([]))');
  assert.deepEqual(pairedRatios([10, undefined, 30], [20, 20, 60]), [0.5, 0.5]);
  assert.equal(cvPercent([5, 5, 5]), 0);
});

test('floors: PASS/MISS, and N/A when the baseline was not measured', () => {
  const base = { ratio: 0.41, relative: undefined, relativeTo: undefined, p50Ms: 2, p99Ms: 7 };
  assert.equal(checkFloor({ kind: 'ratio', min: 0.4, source: 'x' }, base).pass, true);
  assert.equal(checkFloor({ kind: 'ratio', min: 0.45, source: 'x' }, base).pass, false);
  assert.equal(checkFloor({ kind: 'tail', max: 3, source: 'x' }, base).pass, false);
  assert.equal(
    checkFloor({ kind: 'relative', min: 0.95, source: 'x' }, { ...base, relativeTo: 'gh-plain' }).pass,
    undefined,
  );
  const rel = checkFloor(
    { kind: 'relative', min: 0.95, source: 'x' },
    { ...base, relative: 0.97, relativeTo: 'gh-plain', cpuCost: 0.02 },
  );
  assert.equal(rel.pass, true);
  assert.match(rel.value, /3\.0 % slower; CPU\/req \+2\.0 %/);
});

test('options: BENCH_QUICK is a 3-round 3 s run; bad values name the variable', () => {
  const q = readOptions({ BENCH_QUICK: '1' });
  assert.equal(q.rounds, 3);
  assert.equal(q.duration, 3);
  assert.equal(readOptions({ BENCH_DURATION: '1m', BENCH_ROUNDS: '7' }).duration, 60);
  assert.equal(parseSeconds('X', '500ms', 10), 1);
  assert.throws(() => readOptions({ BENCH_ROUNDS: 'zero' }), /BENCH_ROUNDS/);
  assert.throws(() => readOptions({ BENCH_DURATION: 'soon' }), /BENCH_DURATION/);
});

test('options: each measured run follows 1 s of unmeasured load unless BENCH_ROUND_WARMUP says otherwise', () => {
  assert.equal(readOptions({}).roundWarmup, 1);
  assert.equal(readOptions({ BENCH_QUICK: '1' }).roundWarmup, 0);
  assert.equal(readOptions({ BENCH_ROUND_WARMUP: '0' }).roundWarmup, 0);
  assert.equal(readOptions({ BENCH_ROUND_WARMUP: '3s' }).roundWarmup, 3);
  assert.throws(() => readOptions({ BENCH_ROUND_WARMUP: 'later' }), /BENCH_ROUND_WARMUP/);
});

test('the reference is interpolated to the moment a run happened, nearest outside the range', () => {
  const ref = [
    { at: 1000, value: 100 },
    { at: 3000, value: 80 },
  ];
  assert.equal(valueAt(ref, 2000), 90);
  assert.equal(valueAt(ref, 500), 100);
  assert.equal(valueAt(ref, 9000), 80);
  assert.ok(Number.isNaN(valueAt([], 1)), 'Number.isNaN(valueAt([], 1))');
});

test('every Gatehouse row is held to the issue 19 tail floor (p99 ≤ 2.5 × p50); the reference rows are not', async () => {
  const { CANDIDATES } = await import('../../bench/lib/candidates.js');
  const tail = (id: string) =>
    CANDIDATES.find((c) => c.id === id)?.floors.some(
      (f) => f.kind === 'tail' && f.max === 2.5 && f.source === 'issue 19',
    );
  for (const id of [
    'gh-plain',
    'gh-rs256-cold',
    'gh-es256-cold',
    'gh-limit-redis',
    'gh-session-redis',
    'gh-tls',
  ])
    assert.equal(tail(id), true, `${id} has the tail floor`);
  for (const id of ['nginx', 'haproxy-jwt-rs256', 'nginx-tls'])
    assert.equal(tail(id), false, `${id} has none`);
  const plain = CANDIDATES.find((c) => c.id === 'gh-plain');
  assert.equal(typeof plain?.start, 'function', 'the row still starts');
  const miss = checkFloor(
    { kind: 'tail', max: 2.5, source: 'issue 19' },
    {
      ratio: 0.6,
      relative: undefined,
      relativeTo: undefined,
      p50Ms: 5.34,
      p99Ms: 24.13,
    },
  );
  assert.deepEqual([miss.pass, miss.target], [false, 'p99 ≤ 2.5×p50']);
});
