/**
 * `gatehouse doctor`: loads and compiles the configuration (dry run: no port bound, no file
 * written), then runs each check family against the live world and collects the findings.
 * @module
 */
import { loadConfigFile } from '../config/load.js';
import { compileState, type RuntimeState } from '../config/compile.js';
import { silentLogger } from '../log/logger.js';
import { createContext, type DoctorContext } from './context.js';
import { checkHeaders } from './headers.js';
import { checkLogin } from './login.js';
import { checkProviders } from './provider.js';
import { buildReport, FAMILIES, type DoctorReport, type Family, type Finding } from './report.js';
import { checkTls } from './tls.js';
import { clientCredentialsToken } from './client-credentials.js';
import { checkToken, type TokenSubject } from './token.js';
import { checkUpstreams } from './upstream.js';
import { checkKerberos } from './kerberos.js';

/** Options of one doctor run. */
export interface DoctorOptions {
  readonly configFile: string;
  /** A bearer token to check (`--token`), already read from its file or stdin. */
  readonly token?: string | undefined;
  /** Obtain a token with the login client's credentials (`--client-credentials`). */
  readonly clientCredentials?: boolean;
  /** Scope asked for with `--client-credentials`. */
  readonly scope?: string | undefined;
  readonly timeoutMs: number;
  readonly expiryDays: number;
  /** Families to run (default: all). */
  readonly only?: ReadonlySet<Family> | undefined;
  /** AD account to try Kerberos delegation for (`--kerberos-user`). */
  readonly kerberosUser?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Runs the doctor. Throws {@link import('../config/load.js').ConfigError} when the config does
 * not load or compile (the CLI answers 2, like validate and explain).
 */
export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const { config, file, baseDir } = await loadConfigFile(opts.configFile, opts.env);
  let state: RuntimeState | undefined;
  let ctx: (DoctorContext & { close(): Promise<void> }) | undefined;
  try {
    state = compileState(config, { logger: silentLogger(), baseDir, dryRun: true });
    ctx = createContext(state, { baseDir, timeoutMs: opts.timeoutMs, expiryDays: opts.expiryDays });
    const c = ctx;
    const wanted = (f: Family) => opts.only === undefined || opts.only.has(f);
    const findings: Finding[] = [];
    // The token is checked first: the header checks render its principal.
    const tokenFindings: Finding[] = [];
    let subject: TokenSubject | undefined;
    if (wanted('token') || wanted('headers')) {
      let token = opts.token;
      if (opts.clientCredentials) {
        const r = await clientCredentialsToken(c, opts.scope);
        tokenFindings.push(r.finding);
        if ('token' in r) token = r.token;
      }
      const r = await checkToken(c, { token });
      tokenFindings.push(...r.findings);
      subject = r.subject;
    }
    for (const family of FAMILIES) {
      if (!wanted(family)) continue;
      switch (family) {
        case 'provider':
          findings.push(...(await checkProviders(c)));
          break;
        case 'token':
          findings.push(...tokenFindings);
          break;
        case 'login':
          findings.push(...(await checkLogin(c)));
          break;
        case 'headers':
          findings.push(...(await checkHeaders(c, subject)));
          break;
        case 'upstream':
          findings.push(...(await checkUpstreams(c)), ...(await checkKerberos(c, opts.kerberosUser)));
          break;
        case 'tls':
          findings.push(...(await checkTls(c)));
          break;
      }
    }
    return buildReport(file ?? opts.configFile, findings, new Date(c.now()));
  } finally {
    await ctx?.close();
    await state?.close();
  }
}
