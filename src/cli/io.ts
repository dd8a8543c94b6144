import type { Writable } from 'node:stream';

/** Where a CLI command writes. Tests pass buffers; the binary passes process streams. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable;
}

/** Minimal flag parser: `-c FILE`, `--config FILE`, `--json`, `--flag=value`; the rest are positionals. */
export function parseFlags(
  argv: readonly string[],
  spec: Record<string, { alias?: string; value: boolean }>,
): { flags: Record<string, string | true>; positionals: string[]; error?: string } {
  const flags: Record<string, string | true> = {};
  const positionals: string[] = [];
  const byAlias = new Map<string, string>();
  for (const [k, v] of Object.entries(spec)) {
    byAlias.set(`--${k}`, k);
    if (v.alias) byAlias.set(`-${v.alias}`, k);
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const key = byAlias.get(eq === -1 ? a : a.slice(0, eq));
      if (!key) return { flags, positionals, error: `unknown option ${a}` };
      if ((spec[key] as { value: boolean }).value) {
        const v = eq === -1 ? argv[++i] : a.slice(eq + 1);
        if (v === undefined) return { flags, positionals, error: `option ${a} needs a value` };
        flags[key] = v;
      } else flags[key] = true;
    } else positionals.push(a);
  }
  return { flags, positionals };
}
