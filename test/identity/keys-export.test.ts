import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { main } from '../../src/cli/main.js';
import { JWKS_PATH } from '../../src/identity/feature.js';
import { generateAssertionKey } from '../../src/identity/keys.js';
import { startGatehouse } from '../helpers/gatehouse.js';
import { freePort } from '../helpers/ports.js';

// `gatehouse keys export`: the public JWKS from the configured key dir or files, for verifiers
// that cannot reach Gatehouse; and the JWKS served on every listener (an internal one too).

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(c: Buffer, _e, cb) {
        add(c.toString());
        cb();
      },
    });
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) });
  return { code, out, err };
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { external_url: 'https://intranet.example.com' },
    upstreams: { iis: { url: 'http://127.0.0.1:9' } },
    providers: {
      corp: { issuer: 'https://login.example.com', jwks_uri: 'http://127.0.0.1:9/keys', audiences: ['api'] },
    },
    identity: { assertion: { key_dir: 'keys' } },
    routes: [
      {
        match: { path: '/legacy' },
        upstream: 'iis',
        auth: 'bearer',
        allow: 'authenticated',
        identity: { assertion: { audience: 'https://iis', alg: 'RS256' } },
      },
      {
        match: { path: '/' },
        upstream: 'iis',
        auth: 'bearer',
        allow: 'authenticated',
        identity: { assertion: { audience: 'https://app' } },
      },
    ],
    ...extra,
  };
}

function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-keys-export-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('keys export prints exactly the JWKS Gatehouse serves (both algorithms, public parts only); the JWKS is served on an internal listener too', () =>
  withDir(async (dir) => {
    const file = join(dir, 'gatehouse.yaml');
    const internal = await freePort();
    const cfg = config();
    (cfg.server as Record<string, unknown>).listeners = [
      { address: '127.0.0.1', port: 0 },
      { name: 'internal', address: '127.0.0.1', port: internal },
    ];
    writeFileSync(file, stringify(cfg));
    const gh = await startGatehouse(cfg, { baseDir: dir });
    let served: { keys: Record<string, unknown>[] };
    try {
      const pub = await fetch(`${gh.url}${JWKS_PATH}`);
      assert.equal(pub.status, 200);
      assert.equal(pub.headers.get('content-type'), 'application/jwk-set+json');
      served = (await pub.json()) as typeof served;
      // IIS fetches it by an internal name on the internal listener: same document.
      const inside = await fetch(`http://127.0.0.1:${internal}${JWKS_PATH}`, {
        headers: { host: 'gatehouse.corp.local' },
      });
      assert.equal(inside.status, 200);
      assert.deepEqual(await inside.json(), served);
    } finally {
      await gh.close();
    }
    assert.deepEqual(served.keys.map((k) => k.alg).sort(), ['ES256', 'RS256']);

    const r = await cli('keys', 'export', '-c', file);
    assert.equal(r.code, 0, r.err);
    const exported = JSON.parse(r.out) as typeof served;
    assert.deepEqual(exported, served);
    for (const k of exported.keys) {
      assert.equal(k.use, 'sig');
      assert.ok(
        typeof k.kid === 'string' && k.kid.length > 20,
        "typeof k.kid === 'string' && k.kid.length > 20",
      );
      for (const m of PRIVATE_MEMBERS) assert.equal(k[m], undefined, `no private member ${m}`);
    }

    const out = join(dir, 'jwks.json');
    const w = await cli('keys', 'export', '-c', file, '--out', out, '--format', 'jwks');
    assert.equal(w.code, 0, w.err);
    assert.equal(w.out, '');
    assert.match(w.err, /wrote 2 public keys to .*jwks\.json/);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), served);
    assert.equal(statSync(out).mode & 0o777, 0o644);
  }));

test('keys export never generates a key: an empty key_dir is an error naming it, and nothing is written', () =>
  withDir(async (dir) => {
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, stringify(config()));
    const r = await cli('keys', 'export', '-c', file);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, /keys holds no ES256, RS256 key yet: start Gatehouse once/);
    assert.equal(existsSync(join(dir, 'keys')), false);
  }));

test('keys export with key_file and previous_key_files: both public keys, never the private PEM', () =>
  withDir(async (dir) => {
    const cur = generateAssertionKey('RS256');
    const old = generateAssertionKey('RS256');
    writeFileSync(join(dir, 'cur.pem'), cur.export({ format: 'pem', type: 'pkcs8' }));
    writeFileSync(join(dir, 'old.pem'), old.export({ format: 'pem', type: 'pkcs8' }));
    const file = join(dir, 'gatehouse.yaml');
    const cfg = config({
      identity: { assertion: { algorithm: 'RS256', key_file: 'cur.pem', previous_key_files: ['old.pem'] } },
    });
    (cfg.routes as Record<string, unknown>[]).pop();
    writeFileSync(file, stringify(cfg));
    const r = await cli('keys', 'export', '-c', file);
    assert.equal(r.code, 0, r.err);
    const keys = (JSON.parse(r.out) as { keys: Record<string, string>[] }).keys;
    assert.equal(keys.length, 2);
    const privD = (cur.export({ format: 'jwk' }) as { d: string }).d;
    assert.ok(!r.out.includes(privD), 'the private exponent never appears');
    assert.ok(!r.out.includes('PRIVATE'), "!r.out.includes('PRIVATE')");
    for (const k of keys) for (const m of PRIVATE_MEMBERS) assert.equal(k[m], undefined);
  }));

test('keys export: usage errors exit 2, a config without an assertion exits 1, --help prints the usage', () =>
  withDir(async (dir) => {
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(file, stringify({ ...config(), identity: {}, routes: [] }));
    const none = await cli('keys', 'export', '-c', file);
    assert.equal(none.code, 1);
    assert.match(none.err, /no signed assertion is configured/);
    const noSub = await cli('keys', '-c', file);
    assert.equal(noSub.code, 2);
    assert.match(noSub.err, /expected the subcommand export/);
    const pem = await cli('keys', 'export', '-c', file, '--format', 'pem');
    assert.equal(pem.code, 2);
    assert.match(pem.err, /unknown --format pem \(expected jwks\)/);
    const noConfig = await cli('keys', 'export');
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.err, /missing -c FILE/);
    const help = await cli('keys', '--help');
    assert.equal(help.code, 0);
    assert.match(help.out, /usage: gatehouse keys export -c FILE \[--out FILE\] \[--format jwks\]/);
    const top = await cli('--help');
    assert.match(top.out, /gatehouse keys export -c FILE/);
  }));
