import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import {
  applyDirectoryOps,
  configureKdcOnly,
  startSamba,
  type DirectoryOp,
  type SambaProcess,
} from './kerberos/samba.js';
import { copyTemplate, domainTemplate } from './kerberos/template.js';
import { pacIdentity, type PacIdentity } from './kerberos/pac.js';
import { mustRunKrb5Tool, runKrb5Tool, type ToolResult } from './kerberos/krb5-tools.js';

/** The realm of every throwaway domain. */
export const REALM = 'CORP.TEST';
/** The gateway's service account and SPN. */
export const GATEWAY_ACCOUNT = 'svc-gateway';
export const GATEWAY_SPN = 'HTTP/gateway.corp.test';
/** The IIS stand-in's account and SPN (the target of the delegation). */
export const IIS_ACCOUNT = 'svc-iis';
export const IIS_SPN = 'HTTP/iis.corp.test';

/** Options of {@link startAdDomain}. */
export interface AdDomainOptions {
  /**
   * Ticket lifetime in seconds, as krb5.conf `ticket_lifetime` (Samba's KDC policy counts whole
   * hours): every TGT obtained with this krb5.conf lasts that long, and the tickets obtained with
   * a TGT never outlive it. Default: the KDC's 10 h. krb5.conf then also gets `clockskew = 5`, so
   * a stale ticket is refused promptly.
   */
  ticketLifetimeSeconds?: number;
}

/** A throwaway Samba AD domain CORP.TEST on loopback (KDC only). */
export interface AdDomain {
  readonly dir: string;
  readonly realm: string;
  readonly kdcPort: number;
  /** krb5.conf for this domain (use as KRB5_CONFIG / the feature's `krb5_conf`). */
  readonly krb5Conf: string;
  /** Keytab of svc-gateway@CORP.TEST (AES); rewritten in place by {@link AdDomain.rotateGatewayKeytab}. */
  readonly gatewayKeytab: string;
  readonly gatewayPrincipal: string;
  /** Keytab of HTTP/iis.corp.test@CORP.TEST (AES), for the IIS stand-in. */
  readonly iisKeytab: string;
  /** Passwords of the users created (alice, bob, carol and those from addUser). */
  readonly passwords: Readonly<Record<string, string>>;
  /** Key version number of svc-gateway's current key. */
  gatewayKvno(): number;
  /** Stops the KDC (outage); the directory stays. */
  stopKdc(): Promise<void>;
  /** Starts the KDC again on the same port after {@link AdDomain.stopKdc}. */
  startKdc(): Promise<void>;
  /**
   * Sets a new random password on svc-gateway (new key version) and atomically replaces the keytab
   * file (`gatewayKeytab`, or `path` when given) with the new key only. Returns the path and kvno.
   */
  rotateGatewayKeytab(path?: string): Promise<{ path: string; kvno: number }>;
  /** Adds `spn` to svc-gateway's msDS-AllowedToDelegateTo. */
  allowDelegation(spn: string): Promise<void>;
  /** Removes `spn` from svc-gateway's msDS-AllowedToDelegateTo. */
  disallowDelegation(spn: string): Promise<void>;
  /** Marks a user "sensitive and cannot be delegated" (or clears it): S4U2Proxy then fails for that user only. */
  setSensitive(user: string, on: boolean): Promise<void>;
  /** Creates a user (and puts it in `groups`, created when missing); returns its password. */
  addUser(name: string, groups?: string[]): Promise<string>;
  /** Any directory change (see test/helpers/kerberos/samba-admin.py). */
  apply(ops: DirectoryOp[]): Promise<Record<string, number>>;
  /** `kinit -f` as the gateway from its keytab into `ccache` (e.g. `FILE:/tmp/x`). */
  kinitGateway(ccache: string): Promise<void>;
  /** `kinit` a user with its password into `ccache`. */
  kinitUser(user: string, ccache: string): Promise<void>;
  /** `kvno -U user -P spn` with the gateway's cache `ccache` (S4U2Self + S4U2Proxy); check `code`. */
  s4u(ccache: string, user: string, spn?: string, outCache?: string): Promise<ToolResult>;
  /** The user and AD group names in the PAC of a stand-in answer (`StandinWhoami.attrs`). */
  pacIdentity(attrs: unknown): Promise<PacIdentity>;
  /** Stops samba and removes the directory. */
  close(): Promise<void>;
}

/** Writes the client krb5.conf of the domain (the realm block on several lines: one line is not parsed). */
export function writeKrb5Conf(
  path: string,
  kdcPort: number,
  kpasswdPort: number,
  ticketLifetimeSeconds?: number,
): void {
  const lifetime =
    ticketLifetimeSeconds !== undefined
      ? `  ticket_lifetime = ${ticketLifetimeSeconds}s\n  renew_lifetime = ${ticketLifetimeSeconds}s\n  clockskew = 5\n`
      : '';
  writeFileSync(
    path,
    `[libdefaults]
  default_realm = ${REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
  forwardable = true
  udp_preference_limit = 1
  kdc_timeout = 3000
  max_retries = 1
${lifetime}
[realms]
  ${REALM} = {
    kdc = 127.0.0.1:${kdcPort}
    kpasswd_server = 127.0.0.1:${kpasswdPort}
  }

[domain_realm]
  .corp.test = ${REALM}
  corp.test = ${REALM}
`,
  );
}

function password(): string {
  return `Pw-${randomBytes(9).toString('base64url')}!9a`;
}

const TEMPLATE = {
  version: 'corp.test v1: alice bob carol, payroll-admins, hr, svc-gateway -> HTTP/iis.corp.test, svc-iis',
  users: ['alice', 'bob', 'carol'],
  ops: (passwords: Record<string, string>, dir: string): DirectoryOp[] => [
    ...['alice', 'bob', 'carol'].map((name) => ({ op: 'user', name, password: passwords[name] })),
    { op: 'group', name: 'payroll-admins', members: ['alice'] },
    { op: 'group', name: 'hr', members: ['bob', 'carol'] },
    { op: 'user', name: GATEWAY_ACCOUNT, password: password(), spns: [GATEWAY_SPN], enctypes: 24 },
    { op: 'user', name: IIS_ACCOUNT, password: password(), spns: [IIS_SPN], enctypes: 24 },
    { op: 'delegation', account: GATEWAY_ACCOUNT, any_protocol: true, services: [IIS_SPN] },
    { op: 'keytab', principal: `${GATEWAY_ACCOUNT}@${REALM}`, file: join(dir, 'svc-gateway.keytab') },
    { op: 'keytab', principal: `${IIS_SPN}@${REALM}`, file: join(dir, 'iis.keytab') },
  ],
};

/**
 * A throwaway AD domain CORP.TEST with Samba (KDC only, ephemeral loopback port): users alice, bob,
 * carol; groups payroll-admins (alice) and hr (bob, carol); svc-gateway with SPN
 * HTTP/gateway.corp.test, protocol transition on and msDS-AllowedToDelegateTo HTTP/iis.corp.test;
 * svc-iis with SPN HTTP/iis.corp.test; AES keys; keytabs for both. Needs root (samba-tool provision
 * chowns sysvol). The provisioned domain is built once per machine and copied (see
 * kerberos/template.ts): a domain then starts in about a second; every copy is independent.
 */
export async function startAdDomain(opts: AdDomainOptions = {}): Promise<AdDomain> {
  if (process.getuid?.() !== 0) throw new Error('startAdDomain needs root (samba-tool domain provision)');
  const template = await domainTemplate(TEMPLATE);
  const dir = mkdtempSync(join(tmpdir(), 'gh-ad-'));
  chmodSync(dir, 0o755);
  const domainDir = join(dir, 'dc');
  let samba: SambaProcess | undefined;
  try {
    await copyTemplate(template, dir);
    chmodSync(dir, 0o755);
    const kdcPort = await freePort();
    const kpasswdPort = await freePort();
    const smbConf = configureKdcOnly(domainDir, kdcPort, kpasswdPort);
    const krb5Conf = join(dir, 'krb5.conf');
    writeKrb5Conf(krb5Conf, kdcPort, kpasswdPort, opts.ticketLifetimeSeconds);
    const gatewayKeytab = join(dir, 'svc-gateway.keytab');
    const iisKeytab = join(dir, 'iis.keytab');
    const passwords = template.passwords;
    const gatewayPrincipal = `${GATEWAY_ACCOUNT}@${REALM}`;
    let gatewayKvno = template.gatewayKvno;
    let delegateTo = [IIS_SPN];
    samba = await startSamba(smbConf, domainDir, kdcPort, dir);
    const apply = (ops: DirectoryOp[]) => applyDirectoryOps(smbConf, ops);
    const setDelegation = (spns: string[]) =>
      apply([{ op: 'delegation', account: GATEWAY_ACCOUNT, any_protocol: true, services: spns }]).then(() => {
        delegateTo = spns;
      });
    const tools = { krb5Conf };
    const domain: AdDomain = {
      dir,
      realm: REALM,
      kdcPort,
      krb5Conf,
      gatewayKeytab,
      gatewayPrincipal,
      iisKeytab,
      passwords,
      gatewayKvno: () => gatewayKvno,
      stopKdc: async () => {
        await samba?.stop();
        samba = undefined;
      },
      startKdc: async () => {
        if (!samba) samba = await startSamba(smbConf, domainDir, kdcPort, dir);
      },
      rotateGatewayKeytab: async (path = gatewayKeytab) => {
        const k = await apply([
          { op: 'setpassword', name: GATEWAY_ACCOUNT, password: password() },
          { op: 'keytab', principal: gatewayPrincipal, file: path },
        ]);
        gatewayKvno = k[GATEWAY_ACCOUNT] ?? gatewayKvno + 1;
        return { path, kvno: gatewayKvno };
      },
      allowDelegation: (spn) => setDelegation([...delegateTo.filter((s) => s !== spn), spn]),
      disallowDelegation: (spn) => setDelegation(delegateTo.filter((s) => s !== spn)),
      setSensitive: async (user, on) => {
        await apply([{ op: 'sensitive', name: user, on }]);
      },
      addUser: async (name, groups = []) => {
        const pw = password();
        await apply([
          { op: 'user', name, password: pw },
          ...groups.map((g) => ({ op: 'group', name: g, members: [name], exists_ok: true })),
        ]);
        passwords[name] = pw;
        return pw;
      },
      apply,
      kinitGateway: async (ccache) => {
        await mustRunKrb5Tool('kinit', ['-f', '-k', '-t', gatewayKeytab, gatewayPrincipal], {
          ...tools,
          ccache,
        });
      },
      kinitUser: async (user, ccache) => {
        const pw = passwords[user];
        if (pw === undefined) throw new Error(`no password known for ${user}`);
        await mustRunKrb5Tool('kinit', ['-f', `${user}@${REALM}`], { ...tools, ccache, stdin: `${pw}\n` });
      },
      s4u: (ccache, user, spn = IIS_SPN, outCache) =>
        runKrb5Tool('kvno', ['-U', user, '-P', ...(outCache ? ['--out-cache', outCache] : []), spn], {
          ...tools,
          ccache,
        }),
      pacIdentity: (attrs) => pacIdentity(smbConf, attrs),
      close: async () => {
        await samba?.stop();
        samba = undefined;
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return domain;
  } catch (e) {
    await samba?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
