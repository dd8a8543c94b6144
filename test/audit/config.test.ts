import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, ConfigError } from '../../src/config/load.js';
import { AuditLog } from '../../src/audit/log.js';

function problems(audit: unknown): string[] {
  try {
    validateConfig({ audit });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
  return [];
}

test('audit config: audit.file / audit.stdout keep working; defaults of integrity and sinks', () => {
  const cfg = validateConfig({ audit: { file: 'audit.jsonl', stdout: true } });
  assert.equal(cfg.audit.file, 'audit.jsonl');
  assert.equal(cfg.audit.stdout, true);
  assert.deepEqual(cfg.audit.integrity, {
    enabled: true,
    checkpoint_every: 1000,
    checkpoint_interval: 60_000,
  });
  assert.deepEqual(cfg.audit.sinks, []);
  const s = validateConfig({
    audit: {
      sinks: [
        { type: 'file', path: 'a.jsonl' },
        { type: 'syslog', address: 'logs.example.com:6514', tls: true },
        {
          type: 'http',
          url: 'https://splunk.example.com:8088/services/collector/event',
          format: 'splunk_hec',
        },
      ],
    },
  }).audit.sinks;
  assert.deepEqual(
    s.map((x) => [x.type, x.on_failure, x.buffer.max_events, x.retry.initial, x.retry.max]),
    [
      ['file', 'drop', 10_000, 250, 30_000],
      ['syslog', 'drop', 10_000, 250, 30_000],
      ['http', 'drop', 10_000, 250, 30_000],
    ],
  );
});

test('audit config errors name the exact key path', () => {
  assert.deepEqual(problems({ sinks: [{ type: 'file', path: 'a', on_failure: 'panic' }] }).length, 1);
  assert.match(
    problems({ sinks: [{ type: 'file', path: 'a', on_failure: 'panic' }] })[0] ?? '',
    /^audit\.sinks\[0\]\.on_failure: /,
  );
  assert.match(
    problems({ sinks: [{ type: 'syslog', address: 'nohostport' }] })[0] ?? '',
    /^audit\.sinks\[0\]\.address: expected HOST:PORT/,
  );
  assert.match(
    problems({ sinks: [{ type: 'http', url: 'https://c.example.com/', format: 'csv' }] })[0] ?? '',
    /^audit\.sinks\[0\]\.format: /,
  );
  assert.match(
    problems({
      sinks: [{ type: 'http', url: 'https://c.example.com/', buffer: { max_bytes: 'lots' } }],
    })[0] ?? '',
    /^audit\.sinks\[0\]\.buffer\.max_bytes: expected a size/,
  );
  assert.match(
    problems({ integrity: { checkpoint_interval: 'soon' } })[0] ?? '',
    /^audit\.integrity\.checkpoint_interval: expected a duration/,
  );
  assert.match(problems({ integrity: { key: 'x' } })[0] ?? '', /^audit\.integrity\.key: unknown key "key"/);
  assert.match(
    problems({
      sinks: [
        { type: 'file', path: 'a', name: 'siem' },
        { type: 'http', url: 'http://127.0.0.1:9/', name: 'siem' },
      ],
    })[0] ?? '',
    /^audit\.sinks\[1\]\.name: duplicate sink name "siem"/,
  );
  assert.match(problems({ sinks: [{ type: 'kafka' }] })[0] ?? '', /^audit\.sinks\[0\]\.type/);
});

test('files named by the audit config are read at start; a bad one names its key', () => {
  const cfg = validateConfig({
    audit: { sinks: [{ type: 'syslog', address: '127.0.0.1:9', tls: { ca: '/nonexistent/ca.pem' } }] },
  }).audit;
  assert.throws(
    () => new AuditLog(cfg),
    (e: Error & { code?: string }) =>
      e.code === 'GH_AUDIT_SINK_INVALID' && e.message.startsWith('audit.sinks[0].tls.ca: cannot read'),
  );
  const keyed = validateConfig({
    audit: { file: '/tmp/gh-never-written.jsonl', integrity: { key_file: '/nonexistent/key.pem' } },
  }).audit;
  assert.throws(
    () => new AuditLog(keyed),
    (e: Error & { code?: string }) =>
      e.code === 'GH_AUDIT_KEY_INVALID' && e.message.startsWith('audit.integrity.key_file: cannot read'),
  );
});
