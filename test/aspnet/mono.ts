import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireBinary } from '../helpers/binaries.js';
import { freePort } from '../helpers/ports.js';

/** Source folder of the module, the test host and the test app. */
export const ASPNET_DIR = join(import.meta.dirname, '../../integrations/aspnet');
/** Mono's copy of ASP.NET MVC (for the [Authorize(Roles)] probe in the test app). */
const MVC = '/usr/lib/mono/gac/System.Web.Mvc/3.0.0.0__31bf3856ad364e35/System.Web.Mvc.dll';

export interface Build {
  readonly dir: string;
  /** Milliseconds per mcs invocation. */
  readonly ms: Record<string, number>;
}

function cs(sub: string): string[] {
  const d = join(ASPNET_DIR, sub);
  return readdirSync(d)
    .filter((f) => f.endsWith('.cs'))
    .map((f) => join(d, f));
}

function mcs(name: string, args: string[], ms: Record<string, number>): void {
  const t = Date.now();
  try {
    execFileSync(requireBinary('mcs', 'mono-devel'), ['-warnaserror+', ...args], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    throw new Error(`mcs ${name} failed:\n${x.stdout ?? ''}${x.stderr ?? ''}`);
  }
  ms[name] = Date.now() - t;
}

/**
 * Compiles the module against the .NET Framework 4.7.2 API surface in C# 5 (what the csc.exe
 * shipped with .NET Framework 4.x accepts) and, without ES256, against the 4.6.2 API; the test host and the test app into `dir`, as `README.md` describes.
 * `only: 'runtime'` builds just the module (4.7.2), the host and the app: what a test that sends
 * requests needs.
 */
export function buildAll(dir: string, opts: { only?: 'runtime' } = {}): Build {
  requireBinary('mono', 'mono-devel');
  mkdirSync(dir, { recursive: true });
  const ms: Record<string, number> = {};
  const refs = ['-r:System.Web.dll', '-r:System.Web.Extensions.dll', '-r:System.Configuration.dll'];
  const lib = ['-target:library', ...refs];
  const src = cs('src');
  mcs(
    'module 4.7.2',
    ['-langversion:5', '-sdk:4.7.2-api', ...lib, `-out:${join(dir, 'Gatehouse.AspNet.dll')}`, ...src],
    ms,
  );
  if (opts.only !== 'runtime')
    mcs(
      'module 4.6.2',
      ['-sdk:4.6.2-api', '-define:GATEHOUSE_NO_ES256', ...lib, `-out:${join(dir, 'net462.dll')}`, ...src],
      ms,
    );
  mcs(
    'test host',
    [
      '-sdk:4.7.2-api',
      '-target:exe',
      '-r:System.Web.dll',
      `-out:${join(dir, 'GatehouseTestHost.exe')}`,
      ...cs('testhost'),
    ],
    ms,
  );
  mcs(
    'test app',
    [
      '-sdk:4.7.2-api',
      ...lib,
      '-r:System.Web.Abstractions.dll',
      `-r:${MVC}`,
      `-out:${join(dir, 'Gatehouse.TestApp.dll')}`,
      ...cs('testapp'),
    ],
    ms,
  );
  if (opts.only === 'runtime') return { dir, ms };
  mcs(
    'unit tests',
    [
      '-sdk:4.7.2-api',
      `-r:${join(dir, 'Gatehouse.AspNet.dll')}`,
      '-r:System.Configuration.dll',
      '-r:System.Core.dll',
      `-out:${join(dir, 'GatehouseUnitTests.exe')}`,
      ...cs('tests'),
    ],
    ms,
  );
  // The classic project the README gives Windows users (msbuild); Mono's xbuild reads the same file.
  const t = Date.now();
  try {
    execFileSync(
      requireBinary('xbuild', 'mono-devel'),
      [
        '/nologo',
        '/v:quiet',
        `/p:OutputPath=${join(dir, 'xbuild')}/`,
        `/p:BaseIntermediateOutputPath=${join(dir, 'obj')}/`,
        `/p:IntermediateOutputPath=${join(dir, 'obj')}/`,
        join(ASPNET_DIR, 'Gatehouse.AspNet.csproj'),
      ],
      { encoding: 'utf8', stdio: 'pipe' },
    );
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    throw new Error(`xbuild Gatehouse.AspNet.csproj failed:\n${x.stdout ?? ''}${x.stderr ?? ''}`);
  }
  ms['csproj (xbuild)'] = Date.now() - t;
  return { dir, ms };
}

/**
 * Compiles test/aspnet/xmlcheck (XmlDocument over each file) and runs it over `files`: per file,
 * whether .NET parses it, and its element paths and attributes (`E path`, `A path@name=value`).
 */
export function checkXml(
  build: Build,
  files: readonly string[],
): Map<string, { ok: boolean; lines: string[] }> {
  const exe = join(build.dir, 'XmlCheck.exe');
  mcs(
    'xml check',
    ['-sdk:4.7.2-api', '-r:System.Xml.dll', `-out:${exe}`, join(import.meta.dirname, 'xmlcheck/XmlCheck.cs')],
    build.ms,
  );
  const out = execFileSync(requireBinary('mono', 'mono-devel'), [exe, ...files], { encoding: 'utf8' });
  const res = new Map<string, { ok: boolean; lines: string[] }>();
  for (const part of out.split('=== ').slice(1)) {
    const [file, status, ...lines] = part.split('\n').filter((l) => l !== '');
    res.set(file as string, { ok: status === 'OK', lines: status === 'OK' ? lines : [status ?? ''] });
  }
  return res;
}

/** Runs the C# unit tests (their own runner); resolves with exit code and output. */
export function runUnitTests(build: Build): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(requireBinary('mono', 'mono-devel'), [join(build.dir, 'GatehouseUnitTests.exe')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, out }));
  });
}

/**
 * Writes an application folder: bin/ and web.config, by default the test app's template with
 * `{key}` filled from `values`; `webConfig` gives the whole file instead.
 */
export function makeApp(
  build: Build,
  dir: string,
  values: Record<string, string>,
  webConfig?: string,
): string {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const f of ['Gatehouse.AspNet.dll', 'GatehouseTestHost.exe', 'Gatehouse.TestApp.dll'])
    copyFileSync(join(build.dir, f), join(dir, 'bin', f));
  const config =
    webConfig ??
    readFileSync(join(ASPNET_DIR, 'testapp/web.config'), 'utf8').replace(
      /\{(\w+)\}/g,
      (_, k: string) => values[k] ?? '',
    );
  writeFileSync(join(dir, 'web.config'), config);
  return dir;
}

/**
 * The README's web.config (its ```xml block holding `<configuration>`), with the JWKS URL set to
 * `jwksUrl` and the test handler registered, as an operator would add their own pages.
 */
export function readmeWebConfig(jwksUrl: string): string {
  const readme = readFileSync(join(ASPNET_DIR, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```xml\n([\s\S]*?)```/g)]
    .map((m) => m[1] as string)
    .find((b) => b.includes('<configuration>'));
  if (!block) throw new Error('README.md has no web.config block');
  const url = /key="gatehouse:jwks_url" value="([^"]+)"/.exec(block);
  if (!url) throw new Error('README web.config sets no gatehouse:jwks_url');
  return block
    .replace(url[1] as string, jwksUrl)
    .replace(
      '</system.web>',
      '  <httpHandlers><add verb="*" path="whoami" type="Gatehouse.TestApp.Whoami, Gatehouse.TestApp" /></httpHandlers>\n  </system.web>',
    );
}

export interface MonoHost {
  readonly url: string;
  readonly port: number;
  /** Everything the host printed on stderr (Trace output of the module lands here too). */
  stderr(): string;
  close(): Promise<void>;
}

/** Starts the test host on `port` (127.0.0.1) serving `apps` (virtual path → folder). */
export async function startHost(
  build: Build,
  apps: Record<string, string>,
  port?: number,
): Promise<MonoHost> {
  const p = port ?? (await freePort());
  const args = [join(build.dir, 'GatehouseTestHost.exe'), String(p)];
  for (const [vpath, dir] of Object.entries(apps)) args.push(`${vpath}=${dir}`);
  const child: ChildProcess = spawn(requireBinary('mono', 'mono-devel'), args, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`mono host did not start in 60 s:\n${out}\n${err}`)),
      60_000,
    );
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes(`listening ${p}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mono host exited with ${code}:\n${out}\n${err}`));
    });
  });
  return {
    url: `http://127.0.0.1:${p}`,
    port: p,
    stderr: () => err,
    close: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGKILL');
      }),
  };
}
