import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/load.js';
import { parseDuration } from '../util/units.js';
import { runDoctor } from '../doctor/run.js';
import { exitCode, FAMILIES, renderText, type Family } from '../doctor/report.js';
import { DOCTOR_USAGE } from './doctor-usage.js';
import { type CliIo, parseFlags } from './io.js';

async function readToken(spec: string): Promise<string> {
  if (spec === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').trim();
  }
  if (spec.startsWith('@')) return (await readFile(spec.slice(1), 'utf8')).trim();
  return spec;
}

/**
 * `gatehouse doctor -c FILE`: checks the config against the IdPs, upstreams and certificates it
 * names and prints every finding with a fix. Exit 0 without error findings, 1 with, 2 on usage
 * or configuration errors.
 */
export async function runDoctorCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { flags, positionals, error } = parseFlags(argv, {
    config: { alias: 'c', value: true },
    token: { value: true },
    'client-credentials': { value: false },
    scope: { value: true },
    only: { value: true },
    timeout: { value: true },
    'expiry-days': { value: true },
    'kerberos-user': { value: true },
    json: { value: false },
    problems: { value: false },
    help: { alias: 'h', value: false },
  });
  if (flags.help) {
    io.stdout.write(DOCTOR_USAGE);
    return 0;
  }
  const usage = (m: string) => {
    io.stderr.write(`gatehouse doctor: ${m}\n${DOCTOR_USAGE}`);
    return 2;
  };
  if (error) return usage(error);
  const config =
    typeof flags.config === 'string' ? flags.config : positionals.length === 1 ? positionals[0] : undefined;
  if (config === undefined) return usage(positionals.length > 1 ? 'expected one FILE' : 'missing -c FILE');
  const timeoutMs = typeof flags.timeout === 'string' ? parseDuration(flags.timeout) : 5_000;
  if (timeoutMs === undefined || timeoutMs <= 0)
    return usage(`--timeout expects a duration like "5s", got ${String(flags.timeout)}`);
  const days = typeof flags['expiry-days'] === 'string' ? Number(flags['expiry-days']) : 30;
  if (!Number.isInteger(days) || days < 0)
    return usage(`--expiry-days expects a whole number of days, got ${String(flags['expiry-days'])}`);
  let only: Set<Family> | undefined;
  if (typeof flags.only === 'string') {
    const list = flags.only.split(',').map((s) => s.trim());
    const bad = list.filter((f) => !(FAMILIES as readonly string[]).includes(f));
    if (bad.length)
      return usage(
        `--only: unknown famil${bad.length > 1 ? 'ies' : 'y'} ${bad.join(', ')}; expected ${FAMILIES.join(', ')}`,
      );
    only = new Set(list as Family[]);
  }
  if (flags.token !== undefined && flags['client-credentials'])
    return usage('give either --token or --client-credentials');
  try {
    const token = typeof flags.token === 'string' ? await readToken(flags.token) : undefined;
    const report = await runDoctor({
      configFile: config,
      token,
      clientCredentials: flags['client-credentials'] === true,
      scope: typeof flags.scope === 'string' ? flags.scope : undefined,
      timeoutMs,
      expiryDays: days,
      only,
      kerberosUser: typeof flags['kerberos-user'] === 'string' ? flags['kerberos-user'] : undefined,
    });
    io.stdout.write(
      flags.json
        ? `${JSON.stringify(report, null, 2)}\n`
        : renderText(report, { problemsOnly: flags.problems === true }),
    );
    return exitCode(report);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`gatehouse doctor: ${e.message}\n`);
      return 2;
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return usage((e as Error).message);
    throw e;
  }
}
