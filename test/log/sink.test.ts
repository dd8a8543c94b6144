import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSink } from '../../src/log/sink.js';

function tempFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'gh-sink-')), 'out.log');
}

test('lines are held until the batch fills or flush is called, then written in order', () => {
  const file = tempFile();
  const sink = new LineSink(file, { batchBytes: 4096, flushMs: 0 });
  sink.write('{"n":1}\n');
  sink.write('{"n":2}\n');
  assert.equal(readFileSync(file, 'utf8'), '', 'nothing written before the batch is full');
  sink.flush();
  assert.equal(readFileSync(file, 'utf8'), '{"n":1}\n{"n":2}\n');
  sink.end();
});

test('a full batch is written without a flush; no line is split or lost across batches', () => {
  const file = tempFile();
  const sink = new LineSink(file, { batchBytes: 1024, flushMs: 0 });
  const lines = Array.from({ length: 200 }, (_, i) => `{"i":${i},"pad":"${'x'.repeat(i % 37)}"}\n`);
  for (const l of lines.slice(0, 100)) sink.write(l);
  const early = readFileSync(file, 'utf8');
  assert.ok(early.length > 0, 'batches were written while lines kept coming');
  assert.ok(early.endsWith('\n'), 'only whole lines are written');
  for (const l of lines.slice(100)) sink.write(l);
  sink.end();
  assert.equal(readFileSync(file, 'utf8'), lines.join(''));
});

test('multi-byte UTF-8 (accents, CJK, emoji, a lone surrogate) is encoded exactly', () => {
  const file = tempFile();
  const sink = new LineSink(file, { batchBytes: 64, flushMs: 0 });
  const lines = ['{"u":"Zoë Ñandú"}\n', '{"u":"山田太郎"}\n', '{"u":"🦀🦀🦀🦀🦀🦀"}\n', '{"u":"\ud800"}\n'];
  for (const l of lines) sink.write(l);
  sink.end();
  assert.equal(readFileSync(file, 'utf8'), lines.map((l) => Buffer.from(l).toString('utf8')).join(''));
});

test('a line longer than the batch buffer is written whole, in its place', () => {
  const file = tempFile();
  const sink = new LineSink(file, { batchBytes: 256, flushMs: 0 });
  const big = `{"big":"${'é'.repeat(2000)}"}\n`;
  sink.write('{"a":1}\n');
  sink.write(big);
  sink.write('{"b":2}\n');
  sink.end();
  assert.equal(readFileSync(file, 'utf8'), `{"a":1}\n${big}{"b":2}\n`);
});

test('a failing destination drops the batch, counts the lines, reports the error and never throws', () => {
  const file = tempFile();
  const fd = openSync(file, 'a');
  closeSync(fd);
  const errors: string[] = [];
  const sink = new LineSink(fd, {
    batchBytes: 4096,
    flushMs: 0,
    onError: (e) => errors.push((e as NodeJS.ErrnoException).code ?? ''),
  });
  sink.write('{"n":1}\n{"n":2}\n');
  sink.write('{"n":3}\n');
  assert.doesNotThrow(() => sink.flush());
  assert.equal(sink.dropped, 3);
  assert.deepEqual(errors, ['EBADF']);
  sink.write('{"n":4}\n');
  assert.doesNotThrow(() => sink.end());
  assert.equal(sink.dropped, 4);
});
