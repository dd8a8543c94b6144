/**
 * Findings of `gatehouse doctor` and how they are printed.
 * @module
 */

/** How bad a finding is: `error` fails the run (exit 1), `warning` does not, `ok` is a passed check. */
export type Severity = 'error' | 'warning' | 'ok';

/** The check families, in the order they run and print. */
export const FAMILIES = ['provider', 'token', 'login', 'headers', 'upstream', 'tls'] as const;

/** One check family (`provider`, `token`…): the first segment of a finding id. */
export type Family = (typeof FAMILIES)[number];

/** One result of a check: what was looked at, what was seen, and what to change. */
export interface Finding {
  /** Stable identifier `family.check`, e.g. `provider.issuer`, `token.aud`, `login.redirect_uri`. */
  readonly id: string;
  readonly severity: Severity;
  /** The configuration object concerned: `providers.entra`, `routes[2]`, `upstreams.app`… */
  readonly subject: string;
  /** One sentence: what the check found. */
  readonly what: string;
  /** What was observed (values, statuses, the IdP's own words). Never a token or a secret. */
  readonly evidence?: string | undefined;
  /** What to change, and where. Present on every error and warning. */
  readonly fix?: string | undefined;
}

/** The whole run, as printed by `--json`. */
export interface DoctorReport {
  readonly file: string;
  readonly checked_at: string;
  readonly findings: readonly Finding[];
  readonly summary: { readonly errors: number; readonly warnings: number; readonly ok: number };
}

/** Builds the report (summary counts included) from the findings of every family. */
export function buildReport(file: string, findings: readonly Finding[], now: Date): DoctorReport {
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  return {
    file,
    checked_at: now.toISOString(),
    findings,
    summary: { errors: count('error'), warnings: count('warning'), ok: count('ok') },
  };
}

/** Exit status of a run: 1 when any finding is an error, else 0. */
export function exitCode(report: DoctorReport): number {
  return report.summary.errors > 0 ? 1 : 0;
}

const MARK: Record<Severity, string> = { error: '✗ error  ', warning: '! warning', ok: '✓ ok     ' };

/**
 * Plain-text rendering: one block per finding (mark, id, subject, then what/evidence/fix
 * indented) and a summary line; `problemsOnly` leaves the ok findings out (still counted).
 */
export function renderText(report: DoctorReport, opts: { problemsOnly?: boolean } = {}): string {
  const out: string[] = [`gatehouse doctor: ${report.file}`, ''];
  for (const f of report.findings) {
    if (opts.problemsOnly && f.severity === 'ok') continue;
    out.push(`${MARK[f.severity]} ${f.id}  ${f.subject}`);
    out.push(`    ${f.what}`);
    if (f.evidence !== undefined) out.push(...indent('evidence', f.evidence));
    if (f.fix !== undefined) out.push(...indent('fix', f.fix));
  }
  if (report.findings.length === 0)
    out.push(
      'nothing to check: the config names no provider, login, identity header, upstream or certificate',
    );
  const s = report.summary;
  out.push(
    '',
    `${s.errors} error${s.errors === 1 ? '' : 's'}, ${s.warnings} warning${s.warnings === 1 ? '' : 's'}, ${s.ok} ok`,
  );
  return `${out.join('\n')}\n`;
}

function indent(label: string, text: string): string[] {
  const lines = text.split('\n');
  return lines.map((l, i) => `    ${i === 0 ? `${label}:`.padEnd(10) : ''.padEnd(10)}${l}`);
}

/** Shorthand constructors used by the checks. */
export const finding = {
  ok: (id: string, subject: string, what: string, evidence?: string): Finding => ({
    id,
    severity: 'ok',
    subject,
    what,
    evidence,
  }),
  warning: (
    id: string,
    subject: string,
    what: string,
    evidence: string | undefined,
    fix: string,
  ): Finding => ({
    id,
    severity: 'warning',
    subject,
    what,
    evidence,
    fix,
  }),
  error: (id: string, subject: string, what: string, evidence: string | undefined, fix: string): Finding => ({
    id,
    severity: 'error',
    subject,
    what,
    evidence,
    fix,
  }),
};

/** A duration in words for evidence: `4 min 10 s`, `2 h 5 min`, `3 d 4 h`, `750 ms`. */
export function humanDuration(ms: number): string {
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(a)} ms`;
  const s = Math.round(a / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400)
    return `${Math.floor(s / 3600)} h${Math.floor((s % 3600) / 60) ? ` ${Math.floor((s % 3600) / 60)} min` : ''}`;
  return `${Math.floor(s / 86_400)} d${Math.floor((s % 86_400) / 3600) ? ` ${Math.floor((s % 86_400) / 3600)} h` : ''}`;
}
