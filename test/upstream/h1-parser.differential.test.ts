/**
 * Differential test of the upstream response parser (`src/upstream/h1/parser.ts`) against
 * llhttp in response mode, twice: Node's `http.request` (native llhttp, strict) and undici's
 * `Client` (its own llhttp build). Generated responses — valid, odd and mutated, see
 * `test/helpers/http-responses.ts` — are cut into reads and fed to all three, then EOF.
 *
 * Rejecting is always allowed (the proxy answers 502). Whatever the parser accepts, Node's
 * llhttp must accept too and read the same way: the same 1xx statuses, status, reason and
 * header fields in order for any head it reports; the same body bytes and a clean end for any
 * message it completes; never a reusable connection where llhttp would not keep it alive.
 * undici is a second opinion: its llhttp must not refuse what the parser accepts, and where it
 * reads a head or a body too, it must read the same (its client policies — no 100 Continue, a
 * Content-Length on 204/304 — are not parser verdicts and are only counted). Cutting the bytes
 * into reads differently must never change what the parser reports, but for the name of an
 * error and for bytes after a message that only arrive in a later read (see `check`).
 *
 * `GATEHOUSE_FUZZ_RUNS` sets the number of cases (default {@link CI_RUNS}), `GATEHOUSE_FUZZ_SEED`
 * the seed (default random; printed), `GATEHOUSE_FUZZ_PATH` replays a reported counter-example.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MAX_HEAD_BYTES, ResponseParseError, ResponseParser } from '../../src/upstream/h1/parser.js';
import { nodeResponse, undiciResponse, type ResponseReading } from '../helpers/llhttp-response.js';
import { responseArb, type GeneratedResponse } from '../helpers/http-responses.js';
import { fcParameters, fuzzSettings, show, splitArb, splitBytes, type Split } from '../helpers/fuzz.js';

const CI_RUNS = 2000;

/** What the parser reported, in the shape of the references' readings. */
interface OwnReading extends ResponseReading {
  /** `onEnd(reusable)`, when the message completed. */
  readonly reusable: boolean | undefined;
}

/** Feeds `chunks` to a parser armed for GET or HEAD, then EOF, as `src/upstream/h1/client.ts` does. */
function ownReading(chunks: readonly Buffer[], head: boolean): OwnReading {
  const informational: number[] = [];
  let final: ResponseReading['head'];
  const body: Buffer[] = [];
  let reusable: boolean | undefined;
  let error: string | undefined;
  const parser = new ResponseParser({
    onHead: (status, statusText, rawHeaders) => (final = { status, statusText, rawHeaders }),
    onInformational: (status) => informational.push(status),
    // Copied: the parser hands out views of the caller's buffers.
    onBody: (chunk) => body.push(Buffer.from(chunk)),
    onEnd: (r) => (reusable = r),
  });
  parser.reset(head);
  try {
    for (const c of chunks) parser.execute(c);
    parser.eof();
  } catch (e) {
    if (!(e instanceof ResponseParseError)) throw e;
    error = e.code;
  }
  return {
    informational,
    head: final,
    keepAlive: undefined,
    body: Buffer.concat(body),
    complete: reusable !== undefined,
    reusable,
    error,
  };
}

const isParserError = (e: string | undefined) => e !== undefined && e.startsWith('HPE');

/** The body bytes one side delivered must be a prefix of the other's (no divergent bytes). */
function assertSameBodyPrefix(own: Buffer, ref: Buffer, what: string): void {
  const n = Math.min(own.length, ref.length);
  assert.deepEqual(own.subarray(0, n), ref.subarray(0, n), `body bytes differ from ${what}`);
}

function assertAgreesWithNode(
  own: OwnReading,
  ref: ResponseReading,
  headRequest: boolean,
  what: string,
): void {
  if (own.head) {
    assert.ok(ref.head, `the parser accepted a head Node refused (${ref.error}): ${what}`);
    assert.deepEqual(ref.informational, own.informational, `1xx statuses of ${what}`);
    assert.equal(ref.head.status, own.head.status, `status of ${what}`);
    assert.equal(ref.head.statusText, own.head.statusText, `reason phrase of ${what}`);
    assert.deepEqual(ref.head.rawHeaders, own.head.rawHeaders, `header fields of ${what}`);
    assertSameBodyPrefix(own.body, ref.body, `Node's: ${what}`);
  }
  if (own.complete) {
    assert.ok(ref.complete, `the parser completed a message Node did not (${ref.error}): ${what}`);
    assert.deepEqual(own.body, ref.body, `body of ${what}`);
  }
  // llhttp decides `should_keep_alive` before Node tells it a response to HEAD has no content,
  // so it reads one without a length as close-delimited (undici overrides it for that reason);
  // RFC 9112 §6.3 ends such a message at its head.
  if (own.reusable && !headRequest)
    assert.equal(ref.keepAlive, true, `the parser would reuse a connection llhttp closes: ${what}`);
}

function assertAgreesWithUndici(own: OwnReading, ref: ResponseReading, what: string): void {
  if (own.head && !ref.head)
    assert.ok(
      !isParserError(ref.error),
      `the parser accepted a head undici's llhttp refused (${ref.error}): ${what}`,
    );
  if (own.head && ref.head) {
    assert.deepEqual(ref.informational, own.informational, `1xx statuses of ${what} (undici)`);
    assert.equal(ref.head.status, own.head.status, `status of ${what} (undici)`);
    // undici keeps the OWS after a value (RFC 9110 §5.5: not part of it; Node trims it too).
    const trimmed = ref.head.rawHeaders.map((v, i) => (i % 2 === 1 ? v.replace(/[ \t]+$/, '') : v));
    assert.deepEqual(trimmed, own.head.rawHeaders, `header fields of ${what} (undici)`);
    assertSameBodyPrefix(own.body, ref.body, `undici's: ${what}`);
  }
  if (own.complete) {
    assert.ok(
      ref.complete || !isParserError(ref.error),
      `the parser completed a message undici's llhttp refused (${ref.error}): ${what}`,
    );
    if (ref.complete) assert.deepEqual(own.body, ref.body, `body of ${what} (undici)`);
  }
}

/** For the statistics: how far a reader got, and why it stopped. */
function outcome(r: ResponseReading): string {
  if (r.complete) return 'complete';
  const why = isParserError(r.error)
    ? 'refused'
    : r.error === 'UND_ERR_SOCKET' || r.error === 'ECONNRESET'
      ? 'cut'
      : 'policy';
  return r.head ? `head+${why}` : why;
}

async function check(res: GeneratedResponse, split: Split, stats: Map<string, number>): Promise<void> {
  const chunks = splitBytes(res.bytes, split);
  const whole = ownReading([res.bytes], res.head);
  const own = ownReading(chunks, res.head);
  // The same reading wherever the reads are cut. Only the error's name may differ (a bare LF
  // is seen before the head is complete, a limit after), and one thing the parser cannot know:
  // bytes after the end of a message that come in a later read. Then `onEnd` says reusable and
  // the error follows with those bytes; the connection must not be reused before they could
  // have arrived.
  const cut = `cutting ${show(res.bytes)} into reads changed what the parser reported`;
  const comparable = (r: OwnReading) => ({ ...r, reusable: undefined, error: r.error !== undefined });
  assert.deepEqual(comparable(own), comparable(whole), cut);
  if (own.reusable !== whole.reusable)
    assert.ok(own.reusable && whole.error === 'HPE_INVALID_CONSTANT' && own.error === whole.error, cut);
  const opts = { head: res.head, maxHeaderSize: MAX_HEAD_BYTES };
  const node = await nodeResponse(chunks, opts);
  const undici = await undiciResponse(chunks, opts);
  const what = `${res.head ? 'HEAD ' : ''}${show(res.bytes)}`;
  assertAgreesWithNode(own, node, res.head, what);
  assertAgreesWithUndici(own, undici, what);
  const key = `${res.kind.padEnd(7)} parser=${outcome(own).padEnd(14)} node=${outcome(node).padEnd(14)} undici=${outcome(undici)}`;
  stats.set(key, (stats.get(key) ?? 0) + 1);
}

test('the references are llhttp: they read a response, and refuse bad ones', async () => {
  const opts = { head: false, maxHeaderSize: MAX_HEAD_BYTES };
  const good = Buffer.from(
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A:  v\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n',
  );
  for (const read of [nodeResponse, undiciResponse]) {
    const r = await read(splitBytes(good, { kind: 'bytes' }), opts);
    assert.deepEqual(
      [r.head?.status, r.head?.rawHeaders, r.body.toString(), r.complete, r.error],
      [200, ['Transfer-Encoding', 'chunked', 'X-A', 'v'], 'abc', true, undefined],
      read.name,
    );
    for (const bad of [
      'HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 0\t\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ]) {
      const r = await read([Buffer.from(bad)], opts);
      assert.deepEqual([r.complete, isParserError(r.error)], [false, true], `${read.name} on ${show(bad)}`);
    }
  }
});

test('differential: the upstream parser never accepts a response llhttp rejects or reads it differently', async (t) => {
  const settings = fuzzSettings(CI_RUNS);
  t.diagnostic(`seed=${settings.seed} runs=${settings.runs}${settings.path ? ` path=${settings.path}` : ''}`);
  const stats = new Map<string, number>();
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(responseArb, splitArb, (res, split) => check(res, split, stats)),
    fcParameters(settings),
  );
  t.diagnostic(`${settings.runs} runs in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  for (const [key, n] of [...stats].sort()) t.diagnostic(`${String(n).padStart(7)}  ${key}`);
  // Not vacuous: the parser completed a good share of the responses (the rest it refused or
  // found cut short: EOF before the end).
  const completed = [...stats].filter(([k]) => k.includes('parser=complete')).reduce((a, [, n]) => a + n, 0);
  const total = [...stats.values()].reduce((a, n) => a + n, 0);
  assert.ok(completed >= total * 0.2, `the parser completed only ${completed} of ${total} responses`);
});
