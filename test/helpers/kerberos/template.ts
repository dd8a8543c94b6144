import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyDirectoryOps, provisionDomain, type DirectoryOp } from './samba.js';

/** What a copy of the provisioned domain starts with. */
export interface DomainTemplate {
  /** Directory holding `dc/` (the provisioned DC), `svc-gateway.keytab`, `iis.keytab`, `template.json`. */
  readonly dir: string;
  readonly passwords: Record<string, string>;
  readonly gatewayKvno: number;
}

interface TemplateSpec {
  readonly users: readonly string[];
  readonly ops: (passwords: Record<string, string>, dir: string) => DirectoryOp[];
  /** Changes whenever `ops` changes, so an old template is not reused. */
  readonly version: string;
}

function password(): string {
  return `Pw-${randomBytes(9).toString('base64url')}!9a`;
}

function cpA(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile('cp', ['-a', `${from}/.`, to], (err, _out, stderr) =>
      err ? reject(new Error(`cp -a ${from} ${to}: ${stderr}`)) : resolve(),
    ),
  );
}

const ADMIN_SCRIPT = fileURLToPath(new URL('./samba-admin.py', import.meta.url));
const SAMBA = '/usr/sbin/samba';

const BUILD_LIMIT_MS = 240_000;

/** Takes the build lock (a directory), or a stale one; false when another builder holds it. */
function tryLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    try {
      if (Date.now() - statSync(lock).mtimeMs > BUILD_LIMIT_MS) {
        rmSync(lock, { recursive: true, force: true });
        mkdirSync(lock);
        return true;
      }
    } catch {
      /* someone else took it */
    }
    return false;
  }
}

/** Provisions and fills a domain in a private directory, then renames it to `dir`. */
async function build(spec: TemplateSpec, dir: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'gh-ad-building-'));
  try {
    await provisionDomain(join(work, 'dc'), password());
    const passwords: Record<string, string> = {};
    for (const u of spec.users) passwords[u] = password();
    const kvno = await applyDirectoryOps(join(work, 'dc', 'etc', 'smb.conf'), spec.ops(passwords, work));
    writeFileSync(join(work, 'template.json'), JSON.stringify({ passwords, kvno, built_in: work }));
    renameSync(work, dir);
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/**
 * The provisioned and filled domain, built once per machine (samba-tool domain provision takes
 * 5–10 s, much longer on a loaded machine) under the temp dir and reused by every test file: a
 * domain is a copy of it. One test file builds it (a lock directory) in a private directory and
 * renames it into place, so parallel test files wait for it and never see half of one. Keyed by
 * `spec.version`, samba-admin.py's content and the samba binary's date.
 */
export async function domainTemplate(spec: TemplateSpec): Promise<DomainTemplate> {
  const key = createHash('sha256')
    .update(spec.version)
    .update(readFileSync(ADMIN_SCRIPT))
    .update(String(existsSync(SAMBA) ? statSync(SAMBA).mtimeMs : 0)) // a new samba package: a new template
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), `gh-ad-template-${key}`);
  const meta = join(dir, 'template.json');
  if (!existsSync(meta)) {
    // One builder at a time (a directory is created atomically); the others wait for its result.
    // A lock older than BUILD_LIMIT_MS is from a builder that died: taken over.
    const lock = `${dir}.lock`;
    const deadline = Date.now() + BUILD_LIMIT_MS;
    while (!existsSync(meta) && !tryLock(lock)) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${lock} (another test file builds the domain)`);
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!existsSync(meta)) {
      try {
        await build(spec, dir);
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
    }
  }
  const m = JSON.parse(readFileSync(meta, 'utf8')) as {
    passwords: Record<string, string>;
    kvno: Record<string, number>;
  };
  return { dir, passwords: { ...m.passwords }, gatewayKvno: m.kvno['svc-gateway'] ?? 0 };
}

/** Copies the template into `to` and points its smb.conf at the copy. */
export async function copyTemplate(t: DomainTemplate, to: string): Promise<void> {
  await cpA(t.dir, to);
  const builtIn = (JSON.parse(readFileSync(join(t.dir, 'template.json'), 'utf8')) as { built_in: string })
    .built_in;
  const conf = join(to, 'dc', 'etc', 'smb.conf');
  writeFileSync(conf, readFileSync(conf, 'utf8').replaceAll(builtIn, to));
}
