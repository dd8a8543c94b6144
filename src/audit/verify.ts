import { createPublicKey, type KeyObject } from 'node:crypto';
import { CHAIN_END, CHAIN_START, CHECKPOINT, lineHash } from './chain.js';
import { checkpointMessage, keyId, verifyCheckpoint } from './key.js';
import type { ChainReport, VerifyProblem, VerifyReport } from './verify-report.js';

export type { ChainReport, ProblemCode, VerifyProblem, VerifyReport } from './verify-report.js';

interface ChainState {
  readonly report: ChainReport;
  expect: number;
  prev: string;
  key: KeyObject | undefined;
  lastFile: string;
  lastLine: number;
  ended: boolean;
}

interface ChainField {
  id: string;
  seq: number;
  prev: string;
}

function chainField(v: unknown): ChainField | undefined {
  const c = (v as { chain?: unknown } | null)?.chain as Partial<ChainField> | undefined;
  if (c === undefined || typeof c !== 'object' || c === null) return undefined;
  if (typeof c.id !== 'string' || typeof c.seq !== 'number' || typeof c.prev !== 'string') return undefined;
  return c as ChainField;
}

/** Options of {@link AuditVerifier}. */
export interface VerifyOptions {
  /** The pinned public key: every chain must be signed by it. */
  readonly key?: KeyObject | undefined;
  /** Pin by key id instead (base64url SHA-256 of the SPKI). */
  readonly kid?: string | undefined;
  /** Chains without a signed `audit.chain_end` are errors, not warnings (files of stopped processes). */
  readonly complete?: boolean | undefined;
}

/**
 * Checks audit files line by line: every record's chain (`id`, contiguous `seq`, `prev` = hash
 * of the chain's previous line exactly as written) and every checkpoint signature. Files are
 * fed in order (oldest rotated file first); chains may span files and interleave (cluster
 * workers appending to one file).
 */
export class AuditVerifier {
  readonly #o: VerifyOptions;
  readonly #chains = new Map<string, ChainState>();
  readonly #problems: VerifyProblem[] = [];
  #records = 0;

  constructor(opts: VerifyOptions = {}) {
    this.#o = opts;
  }

  #problem(p: VerifyProblem): void {
    this.#problems.push(p);
  }

  /** Feeds one line; `last` marks a final line without newline (a file cut mid-record). */
  line(file: string, n: number, raw: string, last = false): void {
    if (raw === '') return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      const code = last ? 'audit.truncated' : 'audit.not_json';
      const what = last ? 'the file ends mid-record (truncated)' : 'not a JSON record (edited or corrupted)';
      return this.#problem({ severity: 'error', code, file, line: n, message: what });
    }
    this.#records++;
    const c = chainField(rec);
    if (c === undefined)
      return this.#problem({
        severity: 'error',
        code: 'audit.unchained',
        file,
        line: n,
        message: 'record without a "chain" field (inserted, or written with audit.integrity off)',
      });
    const at = { file, line: n, chain: c.id, seq: c.seq };
    let st = this.#chains.get(c.id);
    if (st === undefined) st = this.#open(c, rec, at);
    else if (st.ended) {
      this.#problem({
        severity: 'error',
        code: 'audit.after_end',
        ...at,
        message: 'record after the chain ended',
      });
      return;
    } else if (c.seq > st.expect) {
      const k = c.seq - st.expect;
      this.#problem({
        severity: 'error',
        code: 'audit.missing',
        ...at,
        message: `seq ${c.seq} follows seq ${st.expect - 1} (${st.lastFile}:${st.lastLine}): ${k} record${k === 1 ? '' : 's'} removed`,
      });
    } else if (c.seq < st.expect) {
      this.#problem({
        severity: 'error',
        code: 'audit.reordered',
        ...at,
        message: `seq ${c.seq} after seq ${st.expect - 1} (${st.lastFile}:${st.lastLine}): records reordered or duplicated`,
      });
      return;
    } else if (c.prev !== st.prev) {
      this.#problem({
        severity: 'error',
        code: 'audit.altered',
        file: st.lastFile,
        line: st.lastLine,
        chain: c.id,
        seq: c.seq - 1,
        message: `record altered: its hash does not match the "prev" of seq ${c.seq} (${file}:${n})`,
      });
    }
    this.#signed(st, c, rec, at);
    const r = st.report;
    r.lastSeq = c.seq;
    r.records++;
    if (!r.files.includes(file)) r.files.push(file);
    st.expect = c.seq + 1;
    st.prev = lineHash(raw);
    st.lastFile = file;
    st.lastLine = n;
  }

  /** First record of a chain: its start (key from it), or a chain whose start is in a file not given. */
  #open(
    c: ChainField,
    rec: Record<string, unknown>,
    at: Omit<VerifyProblem, 'severity' | 'code' | 'message'>,
  ): ChainState {
    const report: ChainReport = {
      id: c.id,
      firstSeq: c.seq,
      lastSeq: c.seq,
      records: 0,
      checkpoints: 0,
      signedThrough: -1,
      closed: false,
      files: [],
    };
    const st: ChainState = {
      report,
      expect: c.seq,
      prev: c.prev,
      key: this.#o.key,
      lastFile: at.file,
      lastLine: at.line,
      ended: false,
    };
    this.#chains.set(c.id, st);
    const start = rec['chain_start'] as
      { host?: string; pid?: number; worker?: number; key?: Record<string, unknown> } | undefined;
    if (rec['type'] === CHAIN_START && c.seq === 0 && start !== undefined) {
      report.host = start.host;
      report.pid = start.pid;
      report.worker = start.worker;
      report.keySource = typeof start.key?.['source'] === 'string' ? start.key['source'] : undefined;
      let embedded: KeyObject | undefined;
      try {
        embedded = createPublicKey(String(start.key?.['public_key']));
      } catch {
        embedded = undefined;
      }
      const kid = embedded ? keyId(embedded) : undefined;
      report.kid = kid;
      const pinned = this.#o.key ? keyId(this.#o.key) : this.#o.kid;
      if (pinned !== undefined && kid !== pinned)
        this.#problem({
          severity: 'error',
          code: 'audit.key_mismatch',
          ...at,
          message: `chain signed with key ${kid ?? '(unreadable)'}, not the pinned key ${pinned}`,
        });
      else st.key = this.#o.key ?? embedded;
    } else {
      if (this.#o.key) report.kid = keyId(this.#o.key);
      this.#problem({
        severity: 'warning',
        code: 'audit.partial',
        ...at,
        message: `chain starts at seq ${c.seq}: its earlier records are not in the files given (pass the rotated files too, oldest first)`,
      });
    }
    return st;
  }

  #signed(
    st: ChainState,
    c: ChainField,
    rec: Record<string, unknown>,
    at: Omit<VerifyProblem, 'severity' | 'code' | 'message'>,
  ): void {
    const type = rec['type'];
    if (type !== CHAIN_START && type !== CHECKPOINT && type !== CHAIN_END) return;
    const cp = rec['checkpoint'] as { sig?: unknown } | undefined;
    st.report.checkpoints++;
    if (st.key === undefined) {
      this.#problem({
        severity: 'warning',
        code: 'audit.no_key',
        ...at,
        message: 'checkpoint not verifiable: the chain start is missing; pass --key with the public key',
      });
      return;
    }
    const msg = checkpointMessage(c.id, c.seq, c.prev, String(rec['time']));
    if (typeof cp?.sig !== 'string' || !verifyCheckpoint(st.key, msg, cp.sig)) {
      this.#problem({
        severity: 'error',
        code: 'audit.bad_signature',
        ...at,
        message: 'checkpoint signature does not verify: records before it were altered, or it was forged',
      });
      return;
    }
    st.report.signedThrough = c.seq;
    if (type === CHAIN_END) {
      st.ended = true;
      st.report.closed = true;
    }
  }

  /** Ends the run: open chains, then the report. */
  finish(): VerifyReport {
    for (const st of this.#chains.values()) {
      const r = st.report;
      if (r.closed) continue;
      const tail = r.lastSeq - r.signedThrough;
      this.#problem({
        severity: this.#o.complete ? 'error' : 'warning',
        code: 'audit.open',
        file: st.lastFile,
        line: st.lastLine,
        chain: r.id,
        seq: r.lastSeq,
        message: `chain has no audit.chain_end (process still running, killed, or the end of the file removed); ${tail} record${tail === 1 ? '' : 's'} after the last signed checkpoint`,
      });
    }
    return {
      ok: !this.#problems.some((p) => p.severity === 'error'),
      records: this.#records,
      chains: [...this.#chains.values()].map((s) => s.report),
      problems: this.#problems,
    };
  }
}
