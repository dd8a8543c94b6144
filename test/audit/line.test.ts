import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildRequestEvent, decisionOf, mergedReasons, requestEventLine } from '../../src/audit/build.js';
import { GatehouseError } from '../../src/errors/index.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { CompiledRoute } from '../../src/pipeline/route.js';

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u2028', '\ud800', 'a', '/', '\u0000', 'é') }),
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const ctxArb = fc.record({
  id: text,
  route: maybe(text),
  method: text,
  path: text,
  host: text,
  clientIp: text,
  principal: maybe(
    fc.record({
      provider: text,
      subject: text,
      clientId: maybe(text),
      tenant: maybe(text),
      kind: fc.constantFrom('user', 'client'),
      method: fc.constantFrom('jwt', 'introspection', 'session', 'mtls', 'apikey'),
      credentialId: maybe(text),
    }),
  ),
  reasons: fc.array(text, { maxLength: 4 }),
  rule: maybe(text),
  upstreamStatus: maybe(fc.integer({ min: 100, max: 599 })),
  stripped: fc.array(text, { maxLength: 3 }),
  status: fc.integer({ min: 100, max: 599 }),
  error: maybe(
    fc.record({
      code: fc.constantFrom('GH_ACCESS_DENIED', 'GH_TOKEN_EXPIRED', 'GH_UPSTREAM_UNAVAILABLE', 'GH_INTERNAL'),
      detail: maybe(fc.oneof(text, fc.constant('bad eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0. here'))),
      reasons: maybe(fc.array(text, { maxLength: 3 })),
    }),
  ),
  elapsedUs: fc.integer({ min: 0, max: 10_000_000 }),
  /** Upstream dispatch and end, µs before now (end undefined: still streaming). */
  upstream: maybe(
    fc.record({
      dispatchUs: fc.integer({ min: 0, max: 10_000_000 }),
      endUs: maybe(fc.integer({ min: 0, max: 10_000 })),
    }),
  ),
});

describe('request audit line', () => {
  it('is byte for byte JSON.stringify(buildRequestEvent(…)) for any request', (t) => {
    const now = performance.now();
    t.mock.method(performance, 'now', () => now);
    t.mock.timers.enable({ apis: ['Date'], now: 1_795_000_000_123 });
    fc.assert(
      fc.property(ctxArb, (c) => {
        const ctx = {
          id: c.id,
          start: now - c.elapsedUs / 1000,
          route: c.route === undefined ? undefined : ({ name: c.route } as CompiledRoute),
          method: c.method,
          path: c.path,
          host: c.host,
          clientIp: c.clientIp,
          principal: c.principal,
          reasons: c.reasons,
          rule: c.rule,
          upstreamStatus: c.upstreamStatus,
          upstreamDispatch: c.upstream === undefined ? undefined : now - c.upstream.dispatchUs / 1000,
          upstreamEnd: c.upstream?.endUs === undefined ? undefined : now - c.upstream.endUs / 1000,
          extra: c.stripped.length ? { strippedHeaders: c.stripped } : {},
        } as unknown as RequestContext;
        const err =
          c.error === undefined
            ? undefined
            : new GatehouseError(c.error.code as never, c.error.detail, { reasons: c.error.reasons });
        const line = requestEventLine(
          ctx,
          c.status,
          err,
          decisionOf(ctx, c.status, err),
          mergedReasons(ctx, err),
        );
        assert.equal(line, JSON.stringify(buildRequestEvent(ctx, c.status, err)));
        // The same principal and route objects in another request (a cached token's next use).
        const again = { ...ctx, id: `${c.id}-2`, path: `${c.path}/2` } as RequestContext;
        assert.equal(
          requestEventLine(again, c.status, err, decisionOf(again, c.status, err), mergedReasons(again, err)),
          JSON.stringify(buildRequestEvent(again, c.status, err)),
        );
      }),
      { numRuns: 1500 },
    );
  });

  it('leaves requests carrying a decision trace to the generic event path', () => {
    const ctx = {
      id: 'r',
      start: performance.now(),
      method: 'GET',
      path: '/',
      host: 'h',
      clientIp: '127.0.0.1',
      reasons: [],
      extra: { trace: [{ check: 'decision', pass: true }] },
    } as unknown as RequestContext;
    assert.equal(requestEventLine(ctx, 200, undefined, 'allow', []), undefined);
  });
});
