import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { doctor, doctorJson, workdir } from './helpers.js';

// The command line of `gatehouse doctor`: usage and configuration errors exit 2 like validate
// and explain; the text and JSON reports; exit 0 when nothing is wrong.

const wd = workdir();
after(() => wd.cleanup());

test('nothing to check: an empty report, exit 0, text and JSON', async () => {
  const file = wd.write('nothing.yaml', {});
  const [text, { run, report }] = await Promise.all([doctor(['-c', file]), doctorJson(['-c', file])]);
  assert.equal(text.code, 0);
  assert.match(
    text.stdout,
    /^gatehouse doctor: .*nothing\.yaml\n\nnothing to check: .*\n\n0 errors, 0 warnings, 0 ok\n$/,
  );
  assert.equal(run.code, 0);
  assert.deepEqual(report.summary, { errors: 0, warnings: 0, ok: 0 });
  assert.ok(report.file.endsWith('nothing.yaml'), "report.file.endsWith('nothing.yaml')");
  assert.ok(!Number.isNaN(Date.parse(report.checked_at)), '!Number.isNaN(Date.parse(report.checked_at))');
});
