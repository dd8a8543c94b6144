import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  rmSync,
  unwatchFile,
  watchFile,
  type Stats,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { withDelegate, type UpstreamHandle } from '../upstream/pool.js';
import type { UpstreamConfig } from '../upstream/schema.js';
import { compileMapping } from './mapping.js';
import { realmOf } from './names.js';
import { gssService, loadGss } from './negotiate.js';
import { TicketManager, type TicketSettings } from './tickets.js';
import { findTool, TOOLS_HINT } from './tools.js';
import { KerberosDelegate } from './delegate.js';

/** The process-wide credential-cache directories (KRB5CCNAME is process-wide). */
interface Dirs {
  readonly collection: string;
  readonly work: string;
}
let dirs: Dirs | undefined;

/**
 * Creates the private directory once per process (mode 0700 under the temp dir: `cc/` is the
 * `DIR:` collection of user caches, `work/` holds the gateway's TGT and files being written) and
 * points `KRB5CCNAME` at the collection — once, for the whole process, because the GSS-API
 * library reads it from the environment. Every Kerberos upstream shares it; user caches are
 * named by principal. Removed when the process exits.
 */
function processDirs(logger: Logger): Dirs {
  if (dirs) return dirs;
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-krb-'));
  const d = { collection: join(root, 'cc'), work: join(root, 'work') };
  mkdirSync(d.collection, { mode: 0o700 });
  mkdirSync(d.work, { mode: 0o700 });
  const before = process.env.KRB5CCNAME;
  if (before !== undefined && before !== '')
    logger.warn(
      { KRB5CCNAME: before },
      'kerberos: KRB5CCNAME of the environment replaced by Gatehouse’s private collection',
    );
  process.env.KRB5CCNAME = `DIR:${d.collection}`;
  process.once('exit', () => rmSync(root, { recursive: true, force: true }));
  dirs = d;
  return d;
}

/** A ticket manager and its keytab watch, shared by the configs (reloads) that use the same settings. */
interface SharedTickets {
  readonly tickets: TicketManager;
  refs: number;
  watcher: ((cur: Stats, prev: Stats) => void) | undefined;
}
const managers = new Map<string, SharedTickets>();

/**
 * The manager for `settings`: the running one when a reloaded config keeps the same settings
 * (its tickets keep serving, also through a KDC outage), else a new one. Released by
 * {@link releaseTickets}; the last release stops it.
 */
function acquireTickets(key: string, settings: TicketSettings, logger: Logger): SharedTickets {
  let m = managers.get(key);
  if (m === undefined) {
    m = { tickets: new TicketManager(settings, logger), refs: 0, watcher: undefined };
    managers.set(key, m);
  }
  m.refs++;
  return m;
}

/** Watches the keytab (once per manager) and gets the gateway's TGT unless a valid one is held. */
async function startTickets(m: SharedTickets, keytab: string, logger: Logger): Promise<void> {
  const t = m.tickets;
  if (m.watcher === undefined) {
    m.watcher = (cur, prev) => {
      if (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino && cur.size === prev.size) return;
      logger.info({ keytab }, 'kerberos: keytab changed, getting a new TGT');
      t.kinit().catch((e: Error) =>
        logger.error({ err: e.message }, 'kerberos: kinit with the new keytab failed'),
      );
    };
    watchFile(keytab, { interval: 1000, persistent: false }, m.watcher);
  }
  await t
    .gatewayTgt()
    .catch((e: Error) =>
      logger.error(
        { err: e.message },
        'kerberos: no gateway TGT at start; Kerberos upstreams answer 503 until the KDC answers',
      ),
    );
}

async function releaseTickets(key: string, m: SharedTickets, keytab: string): Promise<void> {
  if (--m.refs > 0) return;
  managers.delete(key);
  if (m.watcher !== undefined) unwatchFile(keytab, m.watcher);
  await m.tickets.close();
}

/** What one config's Kerberos upstreams share, assembled by `config/compile.ts`. */
export interface KerberosAssembly {
  /** The handle itself, or one whose requests go through Kerberos delegation (`auth.kerberos`). */
  wrap(handle: UpstreamHandle, cfg: UpstreamConfig, keyPath: string): UpstreamHandle;
  /** Gets the gateway's TGT (a failure is logged: requests then fail closed) and watches the keytab. */
  start(): Promise<void>;
  close(): Promise<void>;
}

function readable(path: string, key: string, issue: (path: string, message: string) => void): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    issue(key, `cannot read file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/**
 * Builds the Kerberos side of one config: checks every `auth.kerberos` (native module, MIT
 * tools, readable keytab and krb5.conf, the same gateway account for all upstreams, mapping
 * templates) and gives each such upstream a {@link KerberosDelegate} over one shared
 * {@link TicketManager}. `entraProviders`: provider names with an Entra ID preset.
 */
export function kerberosAssembly(
  baseDir: string,
  entraProviders: ReadonlySet<string>,
  logger: Logger,
  issue: (path: string, message: string) => void,
  dryRun: boolean,
): KerberosAssembly {
  let shared: { id: string; keyPath: string } | undefined;
  let held: { key: string; keytab: string; m: SharedTickets } | undefined;
  return {
    wrap(handle, cfg, keyPath) {
      const k = cfg.auth?.kerberos;
      if (k === undefined) return handle;
      const at = `${keyPath}.auth.kerberos`;
      const gss = loadGss();
      if (typeof gss === 'string') issue(at, gss);
      const kinit = findTool('kinit');
      const kvno = findTool('kvno');
      if (kinit === undefined || kvno === undefined)
        issue(at, `kinit and kvno not found in PATH: ${TOOLS_HINT}`);
      const kt = resolve(baseDir, k.keytab);
      readable(kt, `${at}.keytab`, issue);
      const conf = k.krb5_conf === undefined ? undefined : resolve(baseDir, k.krb5_conf);
      if (conf !== undefined) readable(conf, `${at}.krb5_conf`, issue);
      const realm = k.realm ?? realmOf(k.service_principal);
      const id = JSON.stringify([k.service_principal, kt, conf ?? null, realm]);
      if (shared === undefined) shared = { id, keyPath: at };
      else if (shared.id !== id)
        issue(
          at,
          `service_principal, keytab, krb5_conf and realm must be the same as in ${shared.keyPath} (the credential caches and KRB5_CONFIG are process-wide)`,
        );
      const map = compileMapping(k, realm, entraProviders, at, issue);
      if (dryRun || typeof gss === 'string' || kinit === undefined || kvno === undefined) return handle;
      const d = processDirs(logger);
      if (conf !== undefined) process.env.KRB5_CONFIG = conf;
      if (held === undefined) {
        const key = JSON.stringify([id, k.refresh_before, k.max_users]);
        const settings: TicketSettings = {
          servicePrincipal: k.service_principal,
          keytab: kt,
          krb5Conf: conf,
          realm,
          refreshBefore: k.refresh_before,
          maxUsers: k.max_users,
          kinit,
          kvno,
          collection: d.collection,
          work: d.work,
          toolTimeout: 15_000,
        };
        held = { key, keytab: kt, m: acquireTickets(key, settings, logger) };
      }
      const tickets = held.m.tickets;
      const delegate = new KerberosDelegate({
        upstream: handle.name,
        map,
        tickets,
        gss,
        spn: `${k.spn}@${realm}`,
        service: gssService(k.spn),
        pool: handle.client.opts,
        connectionsPerUser: k.connections_per_user,
        maxUsers: k.max_users,
        logger,
      });
      return withDelegate(handle, delegate);
    },
    async start() {
      if (held) await startTickets(held.m, held.keytab, logger);
    },
    async close() {
      const h = held;
      held = undefined;
      if (h) await releaseTickets(h.key, h.m, h.keytab);
    },
  };
}
