/**
 * Micro-benchmark of identity propagation per request: strip, header templates, Easy Auth and
 * the signed assertion (cached vs signed every time), plus an end-to-end comparison through
 * the gateway with wrk. Run: `node --import tsx bench/identity.ts [--e2e]`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AssertionKeySet } from '../src/identity/keyset.js';
import { RouteAssertion } from '../src/identity/assertion.js';
import { valueEncoding } from '../src/identity/encode.js';
import { identityMutator, type IdentityPlan } from '../src/identity/inject.js';
import { stripForgedHeaders } from '../src/identity/strip.js';
import { compileTemplate, type CompiledTemplate } from '../src/identity/template.js';
import type { Principal } from '../src/pipeline/principal.js';
import type { RequestContext } from '../src/pipeline/context.js';

/** One row: a scenario and its mean cost per request. */
export interface IdentityBenchRow {
  readonly scenario: string;
  readonly nsPerRequest: number;
}

const principal = (credentialId: string): Principal => ({
  kind: 'user',
  subject: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
  issuer: 'https://login.microsoftonline.com/tenant/v2.0',
  provider: 'entra',
  method: 'jwt',
  name: 'Alice Example',
  email: 'alice@example.com',
  groups: Array.from({ length: 12 }, (_, i) => `group-${i}`),
  roles: ['Reader'],
  scopes: ['api.read'],
  tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47',
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
  credentialId,
  claims: {
    oid: '00000000-0000-0000-66f3-3332eca7ea81',
    tid: '72f988bf',
    preferred_username: 'alice@example.com',
  },
});

function ctx(p: Principal): RequestContext {
  return { principal: p, inject: new Map(), drop: new Set(), extra: {} } as unknown as RequestContext;
}

async function time(n: number, fn: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < Math.min(n, 2000); i++) await fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const r = fn(i);
    if (r instanceof Promise) await r;
  }
  return Math.round(Number(process.hrtime.bigint() - t0) / n);
}

function headersOf(enc = valueEncoding('percent')): IdentityPlan['headers'] {
  const t = (s: string) => compileTemplate(s, enc, ',') as CompiledTemplate;
  return [
    { name: 'X-Forwarded-User', render: t('{sub}') },
    { name: 'X-Forwarded-Email', render: t('{email}') },
    { name: 'X-Forwarded-Groups', render: t('{groups}') },
    { name: 'X-Tenant', render: t('{claims.tid}') },
  ];
}

/** Runs the micro-benchmarks. */
export async function benchIdentity(): Promise<IdentityBenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-keys-'));
  try {
    const keys = new AssertionKeySet({ alg: 'ES256', keyDir: dir, activationDelayMs: 0, dryRun: false });
    const signer = new RouteAssertion(keys, 'https://gw.example.com', {
      audience: 'https://app',
      groups: 'all',
      roles: 'all',
      claims: [],
      ttlMs: 60_000,
    });
    const base: IdentityPlan = {
      headers: [],
      forwardToken: 'auto',
      maxBytes: 8192,
      encoding: valueEncoding('percent'),
      easyAuth: undefined,
      clientCertHeaders: false,
      assertion: undefined,
    };
    const p = principal('jti-1');
    const raw = [
      'Host',
      'app.example.com',
      'User-Agent',
      'Mozilla/5.0',
      'Accept',
      'text/html',
      'Accept-Language',
      'en',
      'Accept-Encoding',
      'gzip',
      'Cookie',
      'a=b',
      'Authorization',
      'Bearer x',
      'X-Request-Id',
      'r1',
      'X_Remote_User',
      'admin',
      'Connection',
      'keep-alive',
      'Cache-Control',
      'no-cache',
      'Referer',
      'https://x/',
    ];
    const routeSet = new Set(['x-tenant']);
    const rows: IdentityBenchRow[] = [];
    const add = async (scenario: string, n: number, fn: (i: number) => unknown) =>
      rows.push({ scenario, nsPerRequest: await time(n, fn) });

    await add('strip (12 request headers, 1 forged)', 500_000, () => stripForgedHeaders(raw, routeSet));
    const none = identityMutator(base);
    await add('mutator: token forwarding only', 500_000, () => none.mutate(ctx(p)));
    const hdr = identityMutator({ ...base, headers: headersOf() });
    await add('mutator: 4 templated headers', 500_000, () => hdr.mutate(ctx(p)));
    const easy = identityMutator({
      ...base,
      easyAuth: { provider: 'aad', tokenPrefix: 'X-MS-TOKEN-AAD-', includeTokens: false },
    });
    await add('mutator: Easy Auth (cached per principal)', 500_000, () => easy.mutate(ctx(p)));
    const fresh = Array.from({ length: 1024 }, (_, i) => principal(`e-${i}`));
    await add('mutator: Easy Auth (new principal each request)', 100_000, (i) =>
      easy.mutate(ctx(fresh[i & 1023] as Principal)),
    );
    const asr = identityMutator({
      ...base,
      headers: headersOf(),
      assertion: { header: 'X-Gatehouse-Assertion', signer },
    });
    await add('mutator: 4 headers + assertion (cached)', 500_000, () => asr.mutate(ctx(p)));
    let k = 0;
    await add('mutator: 4 headers + assertion (signed every request)', 5_000, () =>
      asr.mutate(ctx(principal(`u-${k++}`))),
    );
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** End to end through the gateway with wrk: API-key requests with and without identity propagation. */
async function benchE2e(): Promise<void> {
  const { startUpstream } = await import('../test/helpers/upstream.js');
  const { startGatehouse } = await import('../test/helpers/gatehouse.js');
  const { hashApiKey } = await import('../src/authn/apikey.js');
  const { requireBinary } = await import('../test/helpers/binaries.js');
  const wrk = requireBinary('wrk', 'wrk');
  let taskset: string | undefined;
  try {
    taskset = requireBinary('taskset', 'util-linux');
  } catch {
    taskset = undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-e2e-'));
  // A small fixed answer: the default recording upstream echoes the headers, which would make
  // routes with larger identity headers pay for a larger response too.
  const up = await startUpstream((_req, res) => res.end('ok'), { keepBody: 0 });
  const key = 'bench-key-0123456789abcdef';
  const route = (name: string, identity?: object) => ({
    name,
    match: { path: `/${name}` },
    upstream: 'app',
    auth: 'apikey',
    allow: 'authenticated',
    identity,
  });
  const gh = await startGatehouse(
    {
      log: { level: 'warn', access_log: false },
      identity: { assertion: { issuer: 'https://gw.example.com', key_dir: 'keys' } },
      api_keys: {
        keys: [{ id: 'k1', hash: hashApiKey(key), client_id: 'bench', roles: ['r'], scopes: ['s'] }],
      },
      upstreams: { app: { url: up.url } },
      routes: [
        route('plain'),
        route('headers', {
          headers: {
            'X-Forwarded-User': '{sub}',
            'X-Client': '{client_id}',
            'X-Roles': '{roles}',
            'X-Scopes': '{scopes}',
          },
        }),
        route('assertion', {
          headers: { 'X-Forwarded-User': '{sub}' },
          assertion: { audience: 'https://app' },
        }),
        route('easyauth', { easy_auth: {} }),
      ],
    },
    { baseDir: dir },
  );
  try {
    const run = promisify(execFile);
    const rps = async (path: string): Promise<number> => {
      const args = ['-t1', '-c32', '-d4s', '-H', `x-api-key: ${key}`, `${gh.url}${path}`];
      // wrk on the last CPU; run the bench itself under `taskset -c 0` to keep them apart.
      const cpu = String(Math.max(0, cpus().length - 1));
      const { stdout: out } = taskset
        ? await run(taskset, ['-c', cpu, wrk, ...args], { encoding: 'utf8' })
        : await run(wrk, args, { encoding: 'utf8' });
      if (!/Requests\/sec/.test(out) || /Non-2xx/.test(out))
        throw new Error(`wrk failed for ${path}: ${out}`);
      return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
    };
    const res: Record<string, number[]> = { plain: [], headers: [], assertion: [], easyauth: [] };
    for (let round = 0; round < 5; round++)
      for (const name of Object.keys(res)) res[name]!.push(await rps(`/${name}/x`));
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;
    const plain = med(res.plain!);
    console.log('\nend to end (wrk -c32, median of 5 x 4 s, gateway and upstream in one process)');
    for (const [name, v] of Object.entries(res)) {
      const m = med(v);
      console.log(
        `${name.padEnd(10)} ${m.toFixed(0).padStart(8)} req/s  ${(((m - plain) / plain) * 100).toFixed(1).padStart(6)} %`,
      );
    }
  } finally {
    await gh.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchIdentity();
  console.log('scenario                                                 ns/request');
  for (const r of rows) console.log(`${r.scenario.padEnd(56)} ${String(r.nsPerRequest).padStart(10)}`);
  if (process.argv.includes('--e2e')) await benchE2e();
}
