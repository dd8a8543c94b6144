import { isAbsolute, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { compileState, type RuntimeState } from '../config/compile.js';
import { GatehouseError, isGatehouseError } from '../errors/index.js';
import { silentLogger } from '../log/logger.js';
import { renderExplain } from '../authz/explain-report.js';
import { explainRequest, UsageError, type RequestArgs } from '../explain/request.js';
import { findAuditEvents } from '../explain/audit-scan.js';
import { pastReport } from '../explain/past.js';
import { renderPast } from '../explain/render-past.js';
import type { SessionInput } from '../explain/session.js';

const USAGE =
  'usage: gatehouse explain -c FILE [--token JWT|@file|-] [--cookie "name=value"] [--session-id ID]\n' +
  '                         [--header "Name: value"]... [--client-ip IP] [--json] METHOD URL\n' +
  '       gatehouse explain -c FILE --request-id ID [--audit FILE]... [--json]\n';

interface Args {
  config: string;
  token: string | undefined;
  headers: [string, string][];
  clientIp: string;
  json: boolean;
  method: string;
  url: string;
  session: SessionInput | undefined;
  requestId: string | undefined;
  audit: string[];
}

function parseArgs(argv: readonly string[]): Args | string {
  const a: Partial<Args> & { headers: [string, string][]; audit: string[] } = {
    headers: [],
    audit: [],
    clientIp: '127.0.0.1',
    json: false,
  };
  const pos: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    switch (name) {
      case '-c':
      case '--config':
        a.config = value();
        if (a.config === undefined) return `${name} needs a file`;
        break;
      case '--token':
        a.token = value();
        if (a.token === undefined) return '--token needs a value: a JWT, @file or - (stdin)';
        break;
      case '--cookie': {
        const c = value();
        if (c === undefined || !c.includes('='))
          return '--cookie expects "name=value" (or a whole Cookie header)';
        if (a.session !== undefined) return '--cookie and --session-id: give one';
        a.session = { cookie: c };
        break;
      }
      case '--session-id': {
        const s = value();
        if (s === undefined || s === '') return '--session-id needs a session id';
        if (a.session !== undefined) return '--cookie and --session-id: give one';
        a.session = { sessionId: s };
        break;
      }
      case '--request-id':
        a.requestId = value();
        if (a.requestId === undefined || a.requestId === '') return '--request-id needs an id';
        break;
      case '--audit': {
        const f = value();
        if (f === undefined) return '--audit needs a file';
        a.audit.push(f);
        break;
      }
      case '-H':
      case '--header': {
        const h = value();
        const colon = h?.indexOf(':') ?? -1;
        if (h === undefined || colon <= 0) return `${name} expects "Name: value"`;
        a.headers.push([h.slice(0, colon).trim().toLowerCase(), h.slice(colon + 1).trim()]);
        break;
      }
      case '--client-ip': {
        const ip = value();
        if (ip === undefined) return '--client-ip needs an address';
        a.clientIp = ip;
        break;
      }
      case '--json':
        a.json = true;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') return `unknown option ${arg}`;
        pos.push(arg);
    }
  }
  if (a.config === undefined) return 'missing -c FILE';
  if (a.requestId !== undefined) {
    if (pos.length > 0 || a.token !== undefined || a.session !== undefined || a.headers.length > 0)
      return '--request-id explains a past request: no METHOD URL, --token, --cookie or --header';
    return a as Args;
  }
  if (a.audit.length > 0) return '--audit goes with --request-id';
  if (pos.length !== 2) return 'expected METHOD and URL (or --request-id ID)';
  a.method = (pos[0] as string).toUpperCase();
  a.url = pos[1] as string;
  return a as Args;
}

/**
 * `--request-id`: the audit files to read (given, else `audit.file` and every file sink of
 * `audit.sinks`), the report, exit status.
 */
async function explainPast(
  args: Args,
  state: RuntimeState,
  baseDir: string,
  io: { stdout: Writable },
): Promise<number> {
  const audit = state.config.audit;
  const configured = [
    ...(audit.file === undefined ? [] : [audit.file]),
    ...audit.sinks.flatMap((s) => (s.type === 'file' ? [s.path] : [])),
  ];
  const files =
    args.audit.length > 0
      ? args.audit
      : [...new Set(configured.map((f) => (isAbsolute(f) ? f : resolve(baseDir, f))))];
  if (files.length === 0)
    throw new GatehouseError(
      'GH_EXPLAIN_AUDIT_UNREADABLE',
      'no audit file: neither audit.file nor a file sink (audit.sinks) is configured; name the files with --audit FILE',
    );
  const id = args.requestId as string;
  const found = await findAuditEvents(files, id);
  const report = pastReport(id, found, state.routes, state.config);
  if (report === undefined)
    throw new GatehouseError(
      'GH_EXPLAIN_REQUEST_NOT_FOUND',
      `request id ${id} is in none of ${files.join(', ')}`,
    );
  io.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderPast(report));
  return report.decision.decision === 'allow' ? 0 : 1;
}

/**
 * `gatehouse explain`: loads and compiles the config without network or files written, then
 * either replays one request (METHOD URL, with `--token`, `--cookie`/`--session-id` or headers)
 * through normalisation, routing, authentication and the route's rules, or reconstructs a past
 * request from the audit trail (`--request-id`), and prints why it was (or would be) allowed or
 * refused. Exit 0 when allowed, 1 when refused, 2 on usage, configuration or input errors.
 */
export async function runExplain(
  argv: string[],
  io: { stdout: Writable; stderr: Writable },
): Promise<number> {
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.stderr.write(`gatehouse explain: ${args}\n${USAGE}`);
    return 2;
  }
  let state: RuntimeState | undefined;
  try {
    const { config, baseDir } = await loadConfigFile(args.config);
    state = compileState(config, { logger: silentLogger(), baseDir, dryRun: true });
    if (args.requestId !== undefined) return await explainPast(args, state, baseDir, io);
    const report = await explainRequest(args as RequestArgs, state);
    io.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderExplain(report));
    return report.decision?.allow ? 0 : 1;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`gatehouse explain: ${e.message}\n`);
      return 2;
    }
    if (isGatehouseError(e) && e.code.startsWith('GH_EXPLAIN_')) {
      io.stderr.write(`gatehouse explain: ${e.code}: ${e.detail ?? e.message}\n`);
      return 2;
    }
    if (e instanceof UsageError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      io.stderr.write(`gatehouse explain: ${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    throw e;
  } finally {
    await state?.close();
  }
}
