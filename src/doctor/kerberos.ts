/**
 * Kerberos delegation checks (`auth.kerberos`, part of the `upstream` family): the keytab is
 * readable and holds the gateway's principal, a forwardable TGT comes from it, the app's SPN is
 * known to the KDC, and — with `--kerberos-user NAME` — S4U2Self + S4U2Proxy for that user
 * works. Runs the same MIT tools as the gateway, in a private temporary directory.
 * @module
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { UpstreamConfig } from '../config/schema.js';
import type { KerberosConfig } from '../kerberos/schema.js';
import { realmOf, userPrincipal } from '../kerberos/names.js';
import { classifyFailure, findTool, TOOLS_HINT, type ToolFailure } from '../kerberos/tools.js';
import type { DoctorContext } from './context.js';
import { finding, type Finding } from './report.js';

interface Run {
  readonly code: number;
  readonly out: string;
}

function run(file: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', ...env }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const out = `${String(stdout)}\n${String(stderr)}`.trim();
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out });
      },
    );
  });
}

const FIX: Record<ToolFailure, string> = {
  kdc_unavailable:
    'no KDC answered: check the kdc lines of krb5.conf (krb5_conf) and that ports 88 TCP/UDP of the domain controllers are reachable',
  unknown_user:
    'the account does not exist in the directory: check the name and the mapping (user, user_table)',
  delegation_denied:
    'KDC_ERR_BADOPTION: give the gateway account "Use any authentication protocol" and the SPN on its Delegation tab (or RBCD on the app account), keep forwardable = true in krb5.conf; a sensitive or Protected Users account cannot be delegated (docs/windows-auth.md)',
  failed:
    'see the KDC message: a wrong key version in the keytab (export a new one), clock skew (NTP), or an SPN unknown to the KDC (setspn -Q) — docs/windows-auth.md#troubleshooting',
};

function firstLine(out: string): string {
  return out.split('\n').find((l) => /kinit:|kvno:|klist:/.test(l)) ?? out.split('\n')[0] ?? '';
}

/** Every `auth.kerberos` of the config with its key path. */
function kerberosUpstreams(ctx: DoctorContext): Array<{ subject: string; k: KerberosConfig }> {
  const out: Array<{ subject: string; k: KerberosConfig }> = [];
  const add = (subject: string, u: UpstreamConfig) => {
    if (u.auth?.kerberos) out.push({ subject: `${subject}.auth.kerberos`, k: u.auth.kerberos });
  };
  for (const [name, u] of Object.entries(ctx.config.upstreams)) add(`upstreams.${name}`, u);
  ctx.config.routes.forEach((r, i) => {
    if (typeof r.upstream !== 'string') add(`routes[${i}].upstream`, r.upstream);
  });
  return out;
}

async function checkOne(
  ctx: DoctorContext,
  subject: string,
  k: KerberosConfig,
  user: string | undefined,
): Promise<Finding[]> {
  const kinit = findTool('kinit');
  const kvno = findTool('kvno');
  const klist = findTool('klist');
  if (!kinit || !kvno || !klist)
    return [
      finding.error(
        'upstream.kerberos_tools',
        subject,
        'kinit, kvno or klist is missing',
        undefined,
        TOOLS_HINT,
      ),
    ];
  const realm = k.realm ?? realmOf(k.service_principal);
  const keytab = resolve(ctx.baseDir, k.keytab);
  const env: Record<string, string> = k.krb5_conf ? { KRB5_CONFIG: resolve(ctx.baseDir, k.krb5_conf) } : {};
  const t = Math.max(ctx.timeoutMs, 5000);
  const out: Finding[] = [];
  const kt = await run(klist, ['-k', '-t', keytab], env, t);
  if (kt.code !== 0)
    return [
      finding.error(
        'upstream.kerberos_keytab',
        subject,
        `the keytab ${keytab} cannot be read`,
        firstLine(kt.out),
        'export the keytab (ktpass) to that path, readable by the Gatehouse user only',
      ),
    ];
  if (!kt.out.includes(k.service_principal))
    return [
      finding.error(
        'upstream.kerberos_keytab',
        subject,
        `the keytab holds no key of ${k.service_principal}`,
        kt.out.split('\n').slice(3, 6).join('; '),
        'export the keytab of service_principal (ktpass /princ …)',
      ),
    ];
  out.push(
    finding.ok('upstream.kerberos_keytab', subject, `the keytab holds keys of ${k.service_principal}`),
  );
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-doctor-krb-'));
  try {
    const cache = `FILE:${join(dir, 'gw')}`;
    const tgt = await run(kinit, ['-f', '-k', '-t', keytab, '-c', cache, k.service_principal], env, t);
    if (tgt.code !== 0) {
      out.push(
        finding.error(
          'upstream.kerberos_tgt',
          subject,
          'no TGT from the keytab',
          firstLine(tgt.out),
          FIX[classifyFailure(tgt.out)],
        ),
      );
      return out;
    }
    out.push(
      finding.ok(
        'upstream.kerberos_tgt',
        subject,
        `a forwardable TGT for ${k.service_principal} comes from the keytab`,
      ),
    );
    const spn = await run(kvno, ['-c', cache, `${k.spn}@${realm}`], env, t);
    if (spn.code !== 0)
      out.push(
        finding.error(
          'upstream.kerberos_spn',
          subject,
          `the KDC gives no ticket for ${k.spn}`,
          firstLine(spn.out),
          'register the SPN on the account IIS decrypts with (setspn -S), exactly once (setspn -X)',
        ),
      );
    else
      out.push(
        finding.ok(
          'upstream.kerberos_spn',
          subject,
          `the KDC knows ${k.spn}`,
          firstLine(spn.out) || spn.out.split('\n')[0],
        ),
      );
    if (user === undefined) return out;
    const u = userPrincipal(user, realm);
    if (typeof u === 'string') {
      out.push(
        finding.error(
          'upstream.kerberos_s4u',
          subject,
          `--kerberos-user ${user} is ${u}`,
          undefined,
          'give an AD account name such as alice',
        ),
      );
      return out;
    }
    const s4u = await run(
      kvno,
      ['-c', cache, '-U', u.account, '-P', '--out-cache', `FILE:${join(dir, 'u')}`, k.spn],
      env,
      t,
    );
    if (s4u.code !== 0)
      out.push(
        finding.error(
          'upstream.kerberos_s4u',
          subject,
          `S4U2Self + S4U2Proxy for ${u.name} to ${k.spn} fails`,
          firstLine(s4u.out),
          FIX[classifyFailure(s4u.out)],
        ),
      );
    else
      out.push(
        finding.ok(
          'upstream.kerberos_s4u',
          subject,
          `a delegated ticket for ${u.name} to ${k.spn} comes from the KDC`,
        ),
      );
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Findings of every Kerberos upstream (none when the config has no `auth.kerberos`). */
export async function checkKerberos(ctx: DoctorContext, user: string | undefined): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const { subject, k } of kerberosUpstreams(ctx)) out.push(...(await checkOne(ctx, subject, k, user)));
  return out;
}
