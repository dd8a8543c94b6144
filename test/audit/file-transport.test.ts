import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTransport } from '../../src/audit/file-sink.js';

test('batches reach the audit file byte for byte: ASCII, multi-byte UTF-8, lone surrogates, and a batch larger than the reused buffer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-file-transport-'));
  try {
    const file = join(dir, 'audit.jsonl');
    const t = new FileTransport(file, { reopenCheckMs: 0 });
    const batches = [
      ['{"a":1}\n'],
      ['{"name":"Zoë"}\n', '{"emoji":"😀"}\n', '{"cjk":"監査"}\n', '{"lone":"\ud800"}\n'],
      // ~300 KB of three-byte characters: more than the 64 KiB buffer holds.
      Array.from({ length: 100 }, (_, i) => `{"n":${i},"v":"${'監'.repeat(1000)}"}\n`),
      ['{"after":"big"}\n'],
    ];
    for (const b of batches) await t.send(b);
    await t.close();
    assert.equal(readFileSync(file, 'utf8'), Buffer.from(batches.flat().join(''), 'utf8').toString('utf8'));
    assert.deepEqual(readFileSync(file), Buffer.from(batches.flat().join(''), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
