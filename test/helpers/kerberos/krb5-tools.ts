import { execFile } from 'node:child_process';
import { requireBinary } from '../binaries.js';

/** What an MIT krb5 tool (kinit, kvno, klist, kdestroy) printed and how it ended. */
export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs an MIT krb5 command-line tool with `KRB5_CONFIG` (and `KRB5CCNAME` when given) pointing at
 * the throwaway domain, never at the machine's /etc/krb5.conf or default cache. Never throws for a
 * non-zero exit: callers check `code` (kvno prints a `kvno = N` line even when it fails).
 */
export function runKrb5Tool(
  tool: 'kinit' | 'kvno' | 'klist' | 'kdestroy',
  args: string[],
  env: { krb5Conf: string; ccache?: string; stdin?: string },
): Promise<ToolResult> {
  const bin = requireBinary(tool, 'krb5-user');
  const childEnv: NodeJS.ProcessEnv = { ...process.env, KRB5_CONFIG: env.krb5Conf };
  delete childEnv.KRB5CCNAME;
  if (env.ccache) childEnv.KRB5CCNAME = env.ccache;
  return new Promise((resolve) => {
    const child = execFile(bin, args, { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (env.stdin !== undefined) child.stdin?.end(env.stdin);
    else child.stdin?.end();
  });
}

/** Like {@link runKrb5Tool}, but throws with the tool's output when it fails. */
export async function mustRunKrb5Tool(
  tool: 'kinit' | 'kvno' | 'klist' | 'kdestroy',
  args: string[],
  env: { krb5Conf: string; ccache?: string; stdin?: string },
): Promise<ToolResult> {
  const r = await runKrb5Tool(tool, args, env);
  if (r.code !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r;
}
