import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnPinned } from './procs.js';

/** One load run's figures, parsed from `wrk --latency` output. */
export interface LoadResult {
  readonly rps: number;
  readonly requests: number;
  readonly seconds: number;
  readonly latencyAvgMs: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  /** Responses outside 2xx/3xx. */
  readonly non2xx: number;
  /** connect + read + write + timeout errors. */
  readonly socketErrors: number;
}

/** What to send: a URL plus either nothing, one fixed bearer token, or a file of tokens to cycle. */
export interface LoadSpec {
  readonly url: string;
  readonly bearer?: string | undefined;
  /** One token per line; each request takes the next one (cold verified-token cache). */
  readonly tokenFile?: string | undefined;
  /** Send every request as a POST with this body (`application/octet-stream`). */
  readonly postBody?: string | undefined;
  /** A fixed `Cookie` header (a warm browser session). */
  readonly cookie?: string | undefined;
  /** A `Host` header other than the URL's (a virtual host served on the same address). */
  readonly host?: string | undefined;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function ms(v: string, unit: string): number {
  const f = TIME_UNITS[unit];
  if (f === undefined) throw new Error(`wrk: unknown time unit ${JSON.stringify(unit)}`);
  return Number(v) * f;
}

/** Parses the text wrk prints with `--latency`. Throws when the summary lines are missing. */
export function parseWrk(text: string): LoadResult {
  const num = '([\\d.]+)';
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+${num}(us|ms|s|m|h)\\s*$`, 'm').exec(text);
    if (!m) throw new Error(`wrk: no ${p}% latency line (was --latency given?)\n${text}`);
    return ms(m[1] as string, m[2] as string);
  };
  const total = /^\s+(\d+) requests in ([\d.]+)(us|ms|s|m|h),/m.exec(text);
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const avg = new RegExp(`^\\s+Latency\\s+${num}(us|ms|s|m|h)`, 'm').exec(text);
  if (!total || !rps || !avg) throw new Error(`wrk: unexpected output\n${text}`);
  const non2xx = /^\s+Non-2xx or 3xx responses: (\d+)/m.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps: Number(rps[1]),
    requests: Number(total[1]),
    seconds: ms(total[2] as string, total[3] as string) / 1000,
    latencyAvgMs: ms(avg[1] as string, avg[2] as string),
    p50Ms: pct('50'),
    p90Ms: pct('90'),
    p99Ms: pct('99'),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock ? sock.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0,
  };
}

/** Lua for wrk: a fixed Authorization header, or cycling through a token file per request. */
export function luaScript(spec: LoadSpec): string | undefined {
  if (spec.tokenFile !== undefined) {
    return `local tokens = {}
for line in io.lines(${JSON.stringify(spec.tokenFile)}) do
  if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
end
if #tokens == 0 then error("no tokens in ${spec.tokenFile}") end
local i = math.random(#tokens)
local hdr = {}
request = function()
  i = i + 1
  if i > #tokens then i = 1 end
  hdr["Authorization"] = tokens[i]
  return wrk.format(nil, nil, hdr)
end
`;
  }
  if (spec.bearer !== undefined)
    return `wrk.headers["Authorization"] = ${JSON.stringify(`Bearer ${spec.bearer}`)}\n`;
  if (spec.cookie !== undefined)
    return `wrk.headers["Cookie"] = ${JSON.stringify(spec.cookie)}\n${
      spec.host === undefined ? '' : `wrk.headers["Host"] = ${JSON.stringify(spec.host)}\n`
    }`;
  if (spec.postBody !== undefined)
    return `wrk.method = "POST"\nwrk.body = ${JSON.stringify(spec.postBody)}\nwrk.headers["Content-Type"] = "application/octet-stream"\n`;
  return undefined;
}

export interface WrkRun {
  readonly duration: number;
  readonly connections: number;
  readonly cpu: number | undefined;
  /** Directory for the generated Lua scripts. */
  readonly dir: string;
}

let scriptSeq = 0;

/**
 * Runs `wrk -t1 -c<connections> -d<duration>s --latency` pinned to `cpu`. wrk stops by itself;
 * the process is also killed if it overruns its duration by 20 s.
 */
export async function runWrk(spec: LoadSpec, run: WrkRun): Promise<LoadResult> {
  const args = ['-t1', `-c${run.connections}`, `-d${run.duration}s`, '--timeout', '5s', '--latency'];
  const lua = luaScript(spec);
  if (lua !== undefined) {
    const file = join(run.dir, `load-${++scriptSeq}.lua`);
    writeFileSync(file, lua);
    args.push('-s', file);
  }
  args.push(spec.url);
  const child = spawnPinned(run.cpu, 'wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), (run.duration + 20) * 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  }).finally(() => clearTimeout(killer));
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${err || out}`);
  return parseWrk(out);
}
