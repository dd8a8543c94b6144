/**
 * Differential test of the fast lane's request-head parser against Node's own (llhttp inside
 * `http.Server`, created with the options `src/server/listeners.ts` uses). Generated heads —
 * valid, odd and mutated, see `test/helpers/http-heads.ts` — are cut into reads and fed both
 * to the lane's reading loop and to a real `http.Server`.
 *
 * Handing a head over is always allowed (Node then parses it for good). Whenever the fast lane
 * accepts a head itself, llhttp must accept the same bytes and read the same method, target,
 * version, header names and values in order, and no content: a request pipelined right after
 * the head must come out of llhttp intact. The lane must not keep a connection open that llhttp
 * would close (`Connection: close`). Cutting the bytes into reads differently must never change
 * the lane's verdict.
 *
 * `GATEHOUSE_FUZZ_RUNS` sets the number of cases (default {@link CI_RUNS}), `GATEHOUSE_FUZZ_SEED`
 * the seed (default random; printed), `GATEHOUSE_FUZZ_PATH` replays a reported counter-example.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseHead, type FastHead, type HeadResult } from '../../src/server/fast/parse.js';
import { LlhttpRequestReference, type RequestReading } from '../helpers/llhttp-request.js';
import { requestArb, type GeneratedRequest } from '../helpers/http-heads.js';
import { fcParameters, fuzzSettings, show, splitArb, splitBytes, type Split } from '../helpers/fuzz.js';

const CI_RUNS = 4000;
/** `server.max_header_size` values: small ones so the limit is often in play. */
const SIZES = [256, 1024, 16 * 1024];
/** A request pipelined after an accepted head: llhttp must read it as the next request. */
const SENTINEL = Buffer.from('GET /__sentinel HTTP/1.1\r\nHost: sentinel\r\n\r\n');

const references = new Map(SIZES.map((size) => [size, new LlhttpRequestReference(size)]));

/** The lane's reading loop (`FastConnection.data` → `next`): bytes add up until a verdict. */
function laneVerdict(chunks: readonly Buffer[], max: number): HeadResult {
  let buf: Buffer | undefined;
  for (const c of chunks) {
    buf = buf === undefined ? c : Buffer.concat([buf, c]);
    const r = parseHead(buf, max);
    if (r !== 'incomplete') return r;
  }
  return 'incomplete';
}

/** Whether the lane keeps the connection open after answering `head` (`src/server/fast/lane.ts`). */
function laneKeepAlive(head: FastHead): boolean {
  return !/(?:^|,)\s*close\s*(?:,|$)/i.test(head.headers.connection ?? '');
}

function verdictName(r: HeadResult): string {
  return typeof r === 'object' ? 'accept' : r;
}

function referenceVerdict(r: RequestReading): string {
  return r.requests.length > 0 ? `accept(${r.requests[0]?.event})` : 'reject';
}

/** Asserts llhttp read the bytes of an accepted head exactly as the fast lane did. */
function assertSameReading(head: FastHead, ref: RequestReading, bytes: Buffer): void {
  const what = show(bytes.subarray(0, head.length));
  const first = ref.requests[0];
  assert.ok(first, `llhttp refused (${ref.error}) a head the fast lane accepted: ${what}`);
  assert.equal(first.event, 'request', `llhttp took ${what} as '${first.event}'`);
  assert.equal(first.method, head.method, `method of ${what}`);
  assert.equal(first.url, head.url, `target of ${what}`);
  assert.equal(first.httpVersion, '1.1', `version of ${what}`);
  assert.deepEqual(first.rawHeaders, head.rawHeaders, `raw headers of ${what}`);
  assert.deepEqual(Object.entries(first.headers), Object.entries(head.headers), `header map of ${what}`);
  assert.deepEqual(first.body, Buffer.alloc(0), `llhttp read content after ${what}`);
  // The lane may close where llhttp would keep the connection (it reads `close` in any valid
  // list, e.g. `close\t,x`, which llhttp does not), never the other way round: it must not
  // serve a pipelined request Node would refuse.
  const keepAlive = laneKeepAlive(head);
  if (keepAlive) assert.equal(first.keepAlive, true, `persistence of ${what}`);
  if (first.keepAlive) {
    assert.equal(ref.error, undefined, `llhttp refused the request pipelined after ${what}`);
    assert.equal(ref.requests.length, 2, `llhttp did not read the request pipelined after ${what}`);
    assert.equal(ref.requests[1]?.url, '/__sentinel', `llhttp misread the request pipelined after ${what}`);
    assert.deepEqual(ref.requests[1]?.body, Buffer.alloc(0));
  } else {
    assert.equal(ref.requests.length, 1, `llhttp read past the end of ${what} (Connection: close)`);
  }
}

async function check(
  req: GeneratedRequest,
  split: Split,
  max: number,
  stats: Map<string, number>,
): Promise<void> {
  const reference = references.get(max);
  assert.ok(reference, 'reference');
  const whole = parseHead(req.bytes, max);
  const fed = laneVerdict(splitBytes(req.bytes, split), max);
  assert.deepEqual(fed, whole, `cutting ${show(req.bytes)} into reads changed the fast lane's verdict`);
  let refVerdict: string;
  if (typeof whole === 'object') {
    const framed = Buffer.concat([req.bytes.subarray(0, whole.length), SENTINEL]);
    const ref = await reference.read(splitBytes(framed, split));
    assertSameReading(whole, ref, req.bytes);
    refVerdict = referenceVerdict(ref);
  } else {
    refVerdict = referenceVerdict(await reference.read(splitBytes(req.bytes, split)));
  }
  const key = `${req.kind.padEnd(7)} lane=${verdictName(whole).padEnd(10)} llhttp=${refVerdict}`;
  stats.set(key, (stats.get(key) ?? 0) + 1);
}

test('the reference is Node’s parser: it reads a head, a pipelined one after it, and refuses bad ones', async () => {
  const reference = references.get(1024);
  assert.ok(reference, 'reference');
  const ok = await reference.read([
    Buffer.from('GET /a?b HTTP/1.1\r\nHost: x\r\nX-A:  v \r\n\r\nHEAD / HTTP/1.1\r\n\r\n'),
  ]);
  assert.equal(ok.error, undefined);
  assert.deepEqual(
    ok.requests.map((r) => [r.event, r.method, r.url, r.rawHeaders, r.keepAlive, r.body?.length]),
    [
      ['request', 'GET', '/a?b', ['Host', 'x', 'X-A', 'v'], true, 0],
      ['request', 'HEAD', '/', [], true, 0],
    ],
  );
  for (const bad of [
    'GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n',
    'GET / HTTP/1.1\r\nX-A : b\r\n\r\n',
    'GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    `GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(1100)}\r\n\r\n`,
  ]) {
    const r = await reference.read(splitBytes(Buffer.from(bad), { kind: 'bytes' }));
    assert.deepEqual([r.requests.length, /^HPE_/.test(r.error ?? '')], [0, true], show(bad));
  }
});

test('differential: the fast lane never accepts a request head llhttp rejects or reads differently', async (t) => {
  const settings = fuzzSettings(CI_RUNS);
  t.diagnostic(`seed=${settings.seed} runs=${settings.runs}${settings.path ? ` path=${settings.path}` : ''}`);
  const stats = new Map<string, number>();
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(requestArb, splitArb, fc.constantFrom(...SIZES), (req, split, max) =>
      check(req, split, max, stats),
    ),
    fcParameters(settings),
  );
  t.diagnostic(`${settings.runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const [key, n] of [...stats].sort()) t.diagnostic(`${String(n).padStart(7)}  ${key}`);
  // Not vacuous: the fast lane accepted a good share of the heads, and llhttp saw them all.
  const accepted = [...stats].filter(([k]) => k.includes('lane=accept')).reduce((a, [, n]) => a + n, 0);
  const total = [...stats.values()].reduce((a, n) => a + n, 0);
  assert.ok(accepted >= total * 0.2, `the fast lane accepted only ${accepted} of ${total} heads`);
});
