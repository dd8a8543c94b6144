import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { AuditLog, type AuditLogConfig } from '../../src/audit/log.js';
import type { AuditEvent } from '../../src/audit/event.js';
import { lineHash } from '../../src/audit/chain.js';
import { main } from '../../src/cli/main.js';

const entry = fileURLToPath(new URL('../helpers/cli-source.ts', import.meta.url));

function event(i: number): AuditEvent {
  return {
    time: new Date().toISOString(),
    type: 'request',
    request_id: `r${i}`,
    subject: `user${i % 3}`,
    route: 'orders',
    decision: i % 4 === 0 ? 'deny' : 'allow',
    reasons: ['rule.allow'],
    rule: 'staff/eng',
    status: i % 4 === 0 ? 403 : 200,
    latency_ms: 1,
  };
}

function integrity(over: Record<string, unknown> = {}): AuditLogConfig['integrity'] {
  return {
    enabled: true,
    checkpoint_every: 10,
    checkpoint_interval: 0,
    ...over,
  } as AuditLogConfig['integrity'];
}

async function writeLog(
  file: string,
  n: number,
  over: Record<string, unknown> = {},
  from = 0,
): Promise<void> {
  const log = new AuditLog({ stdout: false, level: 'info', file, integrity: integrity(over) });
  for (let i = from; i < from + n; i++) log.emit(event(i));
  await log.close();
}

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(...args: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(c: Buffer, _e, cb) {
        f(c.toString());
        cb();
      },
    });
  const code = await main(args, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)) });
  return { code, out, err };
}

interface JsonReport {
  ok: boolean;
  records: number;
  chains: {
    id: string;
    records: number;
    checkpoints: number;
    closed: boolean;
    kid: string;
    files: string[];
  }[];
  problems: { severity: string; code: string; file: string; line: number; seq?: number; chain?: string }[];
}

async function report(...args: string[]): Promise<{ code: number; r: JsonReport }> {
  const run = await cli('audit', 'verify', '--json', ...args);
  return { code: run.code, r: JSON.parse(run.out) as JsonReport };
}

function readLines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').slice(0, -1);
}

function writeLines(file: string, lines: string[]): void {
  writeFileSync(file, `${lines.join('\n')}\n`);
}

describe('audit integrity: hash chain, signed checkpoints, gatehouse audit verify', () => {
  let dir: string;
  let clean: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-audit-int-'));
    clean = join(dir, 'clean.jsonl');
    await writeLog(clean, 45);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('every record carries chain {id, seq, prev}; start, checkpoints and end are signed', async () => {
    const lines = readLines(clean);
    const recs = lines.map(
      (l) => JSON.parse(l) as AuditEvent & { chain: { id: string; seq: number; prev: string } },
    );
    // chain_start + 45 events + 4 checkpoints (every 10) + chain_end
    assert.equal(recs.length, 1 + 45 + 4 + 1);
    assert.equal(recs[0]?.type, 'audit.chain_start');
    assert.match(
      String((recs[0] as Record<string, unknown>)['chain_start'] && JSON.stringify(recs[0])),
      /BEGIN PUBLIC KEY/,
    );
    assert.equal(recs.at(-1)?.type, 'audit.chain_end');
    assert.equal(recs.filter((r) => r.type === 'audit.checkpoint').length, 4);
    const id = recs[0]?.chain.id;
    recs.forEach((r, i) => {
      assert.equal(r.chain.id, id);
      assert.equal(r.chain.seq, i);
      assert.equal(r.chain.prev, i === 0 ? '' : lineHash(lines[i - 1] as string));
    });
    assert.deepEqual(
      recs.filter((r) => r.type === 'request').map((r) => r.request_id),
      Array.from({ length: 45 }, (_, i) => `r${i}`),
    );
    const ok = await cli('audit', 'verify', clean);
    assert.equal(ok.code, 0, ok.out + ok.err);
    assert.match(ok.out, /OK: 51 records in 1 chain verified/);
    assert.match(ok.out, /closed/);
  });

  test('an edited event is found: file, line and seq of the altered record', async () => {
    const lines = readLines(clean);
    const f = join(dir, 'edited.jsonl');
    lines[6] = (lines[6] as string)
      .replace('"decision":"allow"', '"decision":"deny"')
      .replace('"status":200', '"status":403');
    assert.notEqual(lines[6], readLines(clean)[6]);
    writeLines(f, lines);
    const { code, r } = await report(f);
    assert.equal(code, 1);
    assert.equal(r.ok, false);
    const p = r.problems.find((x) => x.code === 'audit.altered');
    assert.deepEqual([p?.file, p?.line, p?.seq], [f, 7, 6]);
    const text = await cli('audit', 'verify', f);
    assert.equal(text.code, 1);
    assert.match(text.out, new RegExp(`${f}:7: error audit.altered \\(chain [^,]+, seq 6\\)`));
  });

  test('an edit with the chain recomputed after it still breaks the next signed checkpoint', async () => {
    const lines = readLines(clean);
    lines[3] = (lines[3] as string).replace('"subject":"user2"', '"subject":"mallory"');
    for (let i = 4; i < lines.length; i++) {
      const rec = JSON.parse(lines[i] as string) as { chain: { prev: string } };
      const prev = lineHash(lines[i - 1] as string);
      lines[i] = (lines[i] as string).replace(`"prev":"${rec.chain.prev}"`, `"prev":"${prev}"`);
    }
    const f = join(dir, 'rechained.jsonl');
    writeLines(f, lines);
    const { code, r } = await report(f);
    assert.equal(code, 1);
    assert.ok(!r.problems.some((p) => p.code === 'audit.altered'), 'the hash chain itself is consistent');
    const bad = r.problems.filter((p) => p.code === 'audit.bad_signature');
    assert.ok(bad.length >= 1, 'bad.length >= 1');
    assert.equal(bad[0]?.line, 12, 'the first checkpoint after the edit (seq 11)');
  });

  test('a removed event: the gap is named at the next record', async () => {
    const lines = readLines(clean);
    lines.splice(7, 1);
    const f = join(dir, 'removed.jsonl');
    writeLines(f, lines);
    const { code, r } = await report(f);
    assert.equal(code, 1);
    const p = r.problems.find((x) => x.code === 'audit.missing');
    assert.deepEqual([p?.line, p?.seq], [8, 8]);
    assert.match((await cli('audit', 'verify', f)).out, /seq 8 follows seq 6 .*1 record removed/);
  });

  test('reordered events are found', async () => {
    const lines = readLines(clean);
    [lines[8], lines[9]] = [lines[9] as string, lines[8] as string];
    const f = join(dir, 'reordered.jsonl');
    writeLines(f, lines);
    const { code, r } = await report(f);
    assert.equal(code, 1);
    assert.ok(
      r.problems.some((p) => p.code === 'audit.missing' && p.line === 9 && p.seq === 9),
      "r.problems.some((p) => p.code === 'audit.missing' && p.line === 9 && p.seq === 9)",
    );
    assert.ok(
      r.problems.some((p) => p.code === 'audit.reordered' && p.line === 10 && p.seq === 8),
      "r.problems.some((p) => p.code === 'audit.reordered' && p.line === 10 && p.seq === 8)",
    );
  });

  test('truncation: mid-record is an error; a removed tail loses the signed end', async () => {
    const text = readFileSync(clean, 'utf8');
    const cut = join(dir, 'cut.jsonl');
    writeFileSync(cut, text.slice(0, text.length - 40));
    const a = await report(cut);
    assert.equal(a.code, 1);
    const p = a.r.problems.find((x) => x.code === 'audit.truncated');
    assert.equal(p?.line, 51);

    const tail = join(dir, 'tail.jsonl');
    writeLines(tail, readLines(clean).slice(0, 40));
    const b = await report(tail);
    assert.equal(b.code, 0, 'an open chain is a warning: the writer may still be running');
    const open = b.r.problems.find((x) => x.code === 'audit.open');
    assert.deepEqual([open?.severity, open?.line, open?.seq], ['warning', 40, 39]);
    const c = await report('--complete', tail);
    assert.equal(c.code, 1, 'with --complete a chain must end signed');
    assert.equal(c.r.problems.find((x) => x.code === 'audit.open')?.severity, 'error');
  });

  test('a configured key is pinned with --key; a chain re-signed by another key is refused', async () => {
    const keyFile = join(dir, 'audit-key.pem');
    const kg = await cli('audit', 'keygen', '--out', keyFile);
    assert.equal(kg.code, 0, kg.err);
    assert.match(kg.out, /BEGIN PUBLIC KEY[\s\S]*kid: [A-Za-z0-9_-]{43}/);
    const pub = join(dir, 'audit-key.pub');
    writeFileSync(pub, kg.out.slice(0, kg.out.indexOf('kid:')));
    const kid = /kid: (\S+)/.exec(kg.out)?.[1] as string;

    const signed = join(dir, 'signed.jsonl');
    await writeLog(signed, 25, { key_file: keyFile });
    const byPem = await report('--key', pub, signed);
    assert.equal(byPem.code, 0, JSON.stringify(byPem.r.problems));
    assert.equal(byPem.r.chains[0]?.kid, kid);
    assert.equal((await report('--key', kid, signed)).code, 0, 'pinned by key id');
    // A forger who rewrites the whole file signs with a key of their own.
    const forged = await report('--key', pub, clean);
    assert.equal(forged.code, 1);
    assert.ok(
      forged.r.problems.some((p) => p.code === 'audit.key_mismatch' && p.line === 1),
      "forged.r.problems.some((p) => p.code === 'audit.key_mismatch' && p.line === 1)",
    );
  });

  test('two writers (cluster workers) interleaved in one file: two chains, both verified', async () => {
    const f = join(dir, 'workers.jsonl');
    const cfg = { stdout: false as const, level: 'info' as const, file: f, integrity: integrity() };
    const a = new AuditLog(cfg);
    const b = new AuditLog(cfg);
    for (let i = 0; i < 30; i++) (i % 2 === 0 ? a : b).emit(event(i));
    await Promise.all([a.close(), b.close()]);
    const { code, r } = await report(f);
    assert.equal(code, 0, JSON.stringify(r.problems));
    assert.equal(r.chains.length, 2);
    assert.ok(
      r.chains.every((c) => c.closed && c.records === 15 + 1 + 1 + 1),
      'r.chains.every((c) => c.closed && c.records === 15 + 1 + 1 + 1)',
    );
  });

  test('a chain across a rotated file: both files verify in order; the newest alone is partial', async () => {
    const f = join(dir, 'rot.jsonl');
    const log = new AuditLog({ stdout: false, level: 'info', file: f, integrity: integrity() });
    for (let i = 0; i < 15; i++) log.emit(event(i));
    await new Promise((r) => setTimeout(r, 50));
    renameSync(f, `${f}.1`);
    log.reopen();
    for (let i = 15; i < 30; i++) log.emit(event(i));
    await log.close();
    const both = await report(`${f}.1`, f);
    assert.equal(both.code, 0, JSON.stringify(both.r.problems));
    assert.deepEqual(both.r.chains[0]?.files, [`${f}.1`, f]);
    const newest = await report(f);
    assert.equal(newest.code, 0);
    assert.ok(
      newest.r.problems.some((p) => p.code === 'audit.partial' && p.severity === 'warning'),
      "newest.r.problems.some((p) => p.code === 'audit.partial' && p.severity === 'warning')",
    );
    const wrongOrder = await report(f, `${f}.1`);
    assert.equal(wrongOrder.code, 1);
  });

  test('checkpoint_interval: a signed checkpoint after quiet time when events were written since the last', async () => {
    const f = join(dir, 'interval.jsonl');
    const log = new AuditLog({
      stdout: false,
      level: 'info',
      file: f,
      integrity: integrity({ checkpoint_every: 100_000, checkpoint_interval: 60 }),
    });
    log.emit(event(1));
    await new Promise((r) => setTimeout(r, 400));
    log.emit(event(2));
    await log.close();
    const types = readLines(f).map((l) => (JSON.parse(l) as AuditEvent).type);
    assert.deepEqual(types, [
      'audit.chain_start',
      'request',
      'audit.checkpoint',
      'request',
      'audit.chain_end',
    ]);
    assert.equal((await report(f)).code, 0);
  });

  test('the gatehouse binary: exit 0 on a clean file, 1 on a tampered one, 2 on usage errors', () => {
    const run = (...a: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', entry, 'audit', 'verify', ...a], { encoding: 'utf8' });
    assert.equal(run(clean).status, 0);
    const lines = readLines(clean);
    lines.splice(20, 1);
    const f = join(dir, 'bin.jsonl');
    writeLines(f, lines);
    const bad = run(f);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /bin\.jsonl:21: error audit\.missing/);
    assert.equal(run().status, 2);
    const help = spawnSync(process.execPath, ['--import', 'tsx', entry, 'audit', '--help'], {
      encoding: 'utf8',
    });
    assert.equal(help.status, 0);
    assert.match(help.stdout, /usage: gatehouse audit verify FILE\.\.\. \[--key PUBKEY\]/);
    assert.equal(run(join(dir, 'nope.jsonl')).status, 2);
  });
});
