import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createPublicKey, type KeyObject } from 'node:crypto';
import type { CliIo } from './io.js';
import { parseFlags } from './io.js';
import { AuditVerifier, type VerifyReport } from '../audit/verify.js';
import { newKeyPair } from '../audit/key.js';
import { AUDIT_USAGE } from './audit-usage.js';

function loadPin(arg: string): { key?: KeyObject; kid?: string } | string {
  if (!existsSync(arg))
    return /^[A-Za-z0-9_-]{43}$/.test(arg) ? { kid: arg } : `--key ${arg}: no such file or key id`;
  try {
    return { key: createPublicKey(readFileSync(arg, 'utf8')) };
  } catch {
    return `--key ${arg}: not a PEM public or private key`;
  }
}

async function feed(v: AuditVerifier, file: string): Promise<void> {
  let n = 0;
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const parts = (rest + (chunk as string)).split('\n');
    rest = parts.pop() as string;
    for (const p of parts) v.line(file, ++n, p);
  }
  if (rest !== '') v.line(file, ++n, rest, true);
}

function text(r: VerifyReport): string {
  let out = '';
  for (const p of r.problems) {
    const where = p.chain === undefined ? '' : ` (chain ${p.chain}, seq ${p.seq})`;
    out += `${p.file}:${p.line}: ${p.severity} ${p.code}${where}: ${p.message}\n`;
  }
  for (const c of r.chains) {
    const state = c.closed ? 'closed' : 'open';
    out += `chain ${c.id}: seq ${c.firstSeq}-${c.lastSeq}, ${c.records} records, ${c.checkpoints} checkpoints, signed through seq ${c.signedThrough}, ${state}; key ${c.kid ?? 'unknown'}${c.keySource ? ` (${c.keySource})` : ''}${c.host ? `; host ${c.host} pid ${c.pid}` : ''}${c.worker === undefined ? '' : ` worker ${c.worker}`}\n`;
  }
  const errors = r.problems.filter((p) => p.severity === 'error').length;
  out += r.ok
    ? `OK: ${r.records} records in ${r.chains.length} chain${r.chains.length === 1 ? '' : 's'} verified\n`
    : `FAILED: ${errors} problem${errors === 1 ? '' : 's'} in ${r.records} records\n`;
  return out;
}

async function verify(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, positionals, error } = parseFlags(argv, {
    key: { value: true },
    json: { value: false },
    complete: { value: false },
  });
  if (error !== undefined || positionals.length === 0) {
    io.stderr.write(`gatehouse audit verify: ${error ?? 'no file given'}\n\n${AUDIT_USAGE}`);
    return 2;
  }
  const pin = typeof flags['key'] === 'string' ? loadPin(flags['key']) : {};
  if (typeof pin === 'string') {
    io.stderr.write(`gatehouse audit verify: ${pin}\n`);
    return 2;
  }
  const v = new AuditVerifier({ ...pin, complete: flags['complete'] === true });
  for (const f of positionals) {
    try {
      await feed(v, f);
    } catch (e) {
      io.stderr.write(
        `gatehouse audit verify: ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`,
      );
      return 2;
    }
  }
  const report = v.finish();
  io.stdout.write(flags['json'] === true ? `${JSON.stringify(report, null, 2)}\n` : text(report));
  return report.ok ? 0 : 1;
}

function keygen(argv: readonly string[], io: CliIo): number {
  const { flags, error } = parseFlags(argv, { out: { alias: 'o', value: true } });
  const out = flags['out'];
  if (error !== undefined || typeof out !== 'string') {
    io.stderr.write(`gatehouse audit keygen: ${error ?? '--out FILE is required'}\n\n${AUDIT_USAGE}`);
    return 2;
  }
  const pair = newKeyPair();
  try {
    writeFileSync(out, pair.privatePem, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    io.stderr.write(`gatehouse audit keygen: ${out}: ${(e as NodeJS.ErrnoException).code ?? 'error'}\n`);
    return 2;
  }
  io.stdout.write(`${pair.publicPem}kid: ${pair.kid}\n`);
  return 0;
}

/** `gatehouse audit verify|keygen`: returns the exit code. */
export async function runAudit(argv: readonly string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'verify') return verify(rest, io);
  if (sub === 'keygen') return keygen(rest, io);
  io.stderr.write(
    `gatehouse audit: ${sub === undefined ? 'missing subcommand' : `unknown subcommand "${sub}"`}\n\n${AUDIT_USAGE}`,
  );
  return 2;
}
