import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawnPinned, stopChild } from './procs.js';
import { httpGet } from './http.js';

/** Repository root (bench/lib/../..). */
export const ROOT = new URL('../../', import.meta.url).pathname;

/** Thrown when a candidate cannot run yet (module missing, config key unknown): reported, not fatal. */
export class SkipCandidate extends Error {
  override readonly name = 'SkipCandidate';
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * Private build of `src/` used by the runner: `node_modules/.cache/gatehouse-bench/`. A private
 * directory (not `dist/`) because `bin/gatehouse.js` prefers `dist/` whenever it exists, and a
 * benchmark build must not change what other processes in the working tree run.
 */
export const BUILD_DIR = join(ROOT, 'node_modules/.cache/gatehouse-bench');
/** The launcher: `node <CLI> start -c FILE` behaves like `bin/gatehouse.js` on the compiled code. */
export const CLI = join(BUILD_DIR, 'gatehouse.js');

let built: Promise<void> | undefined;

/**
 * Compiles `src/` (`tsc -p tsconfig.build.json --outDir …`) unless the private build is newer
 * than every source file. Type errors elsewhere do not stop the emit; a missing
 * `cli/main.js` afterwards does.
 */
export function ensureBuilt(log: (s: string) => void): Promise<void> {
  built ??= (async () => {
    if (!existsSync(join(ROOT, 'src/cli/main.ts')))
      throw new SkipCandidate('Gatehouse CLI not written yet (src/cli/main.ts missing)');
    const stamp = join(BUILD_DIR, 'stamp');
    const main = join(BUILD_DIR, 'dist/cli/main.js');
    if (
      existsSync(main) &&
      existsSync(stamp) &&
      Number(readFileSync(stamp, 'utf8')) >= newestMtime(join(ROOT, 'src'))
    )
      return;
    const t0 = Date.now();
    log(`compiling src/ into ${BUILD_DIR}/dist (tsc -p tsconfig.build.json) …`);
    rmSync(join(BUILD_DIR, 'dist'), { recursive: true, force: true });
    mkdirSync(BUILD_DIR, { recursive: true });
    const r = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        join(BUILD_DIR, 'dist'),
        '--sourceMap',
        'false',
      ],
      { cwd: ROOT, encoding: 'utf8', timeout: 180_000 },
    );
    if (!existsSync(main)) throw new SkipCandidate(`build failed: ${(r.stdout + r.stderr).slice(0, 2000)}`);
    if (r.status !== 0)
      log(
        `tsc reported type errors (emitted anyway):\n${(r.stdout + r.stderr).split('\n').slice(0, 10).join('\n')}`,
      );
    // Its own package scope: ESM, and the version `gatehouse --version` reads from ../../package.json.
    writeFileSync(join(BUILD_DIR, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    writeFileSync(
      CLI,
      "import { main } from './dist/cli/main.js';\nprocess.exitCode = await main(process.argv.slice(2));\n",
    );
    writeFileSync(stamp, String(t0));
  })();
  return built;
}

/** A Gatehouse process started for one candidate. */
export interface GatehouseProcess {
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly configFile: string;
  /** Last lines the process printed (diagnostics). */
  output(): string;
  stop(): Promise<void>;
}

/** `gatehouse validate -c file`: resolves to undefined when valid, else the printed errors. */
export function validateConfig(configFile: string): string | undefined {
  const r = spawnSync(process.execPath, [CLI, 'validate', '-c', configFile], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return r.status === 0 ? undefined : (r.stdout + r.stderr).trim() || `exit ${r.status}`;
}

/**
 * Writes `doc` as YAML to `<dir>/<id>.yaml`, validates it, starts
 * `taskset -c <cpu> node <CLI> start -c FILE` (the compiled CLI) and waits until `readyPath` answers
 * with anything but 503 (keys loaded, listener up).
 */
export async function startGatehouse(
  id: string,
  doc: object,
  opts: { dir: string; cpu: number | string; port: number; readyPath?: string; env?: Record<string, string> },
): Promise<GatehouseProcess> {
  const configFile = join(opts.dir, `${id}.yaml`);
  writeFileSync(configFile, stringify(doc));
  const invalid = validateConfig(configFile);
  if (invalid !== undefined)
    throw new SkipCandidate(`config rejected by "gatehouse validate" (${configFile}):\n${invalid}`);
  const child: ChildProcess = spawnPinned(opts.cpu, process.execPath, [CLI, 'start', '-c', configFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'production', ...opts.env },
  });
  let tail = '';
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${opts.port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`gatehouse (${id}) exited during start:\n${tail}`);
    try {
      const r = await httpGet(url + (opts.readyPath ?? '/'));
      if (r.status !== 503) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await stopChild(child, 'SIGKILL');
      throw new Error(`gatehouse (${id}) not ready within 30 s:\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid ?? 0,
    port: opts.port,
    url,
    configFile,
    output: () => tail,
    stop: () => stopChild(child, 'SIGTERM', 5000),
  };
}
