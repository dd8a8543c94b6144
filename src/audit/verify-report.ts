/** What `gatehouse audit verify` reports (its `--json` output). */

/** Problem codes of `gatehouse audit verify` (stable strings). */
export type ProblemCode =
  | 'audit.not_json'
  | 'audit.truncated'
  | 'audit.unchained'
  | 'audit.altered'
  | 'audit.missing'
  | 'audit.reordered'
  | 'audit.after_end'
  | 'audit.bad_signature'
  | 'audit.key_mismatch'
  | 'audit.no_key'
  | 'audit.partial'
  | 'audit.open';

/** One finding, located by file, line (1-based) and, when known, chain and seq. */
export interface VerifyProblem {
  readonly severity: 'error' | 'warning';
  readonly code: ProblemCode;
  readonly file: string;
  readonly line: number;
  readonly chain?: string | undefined;
  readonly seq?: number | undefined;
  readonly message: string;
}

/** What was found about one chain. */
export interface ChainReport {
  readonly id: string;
  host?: string | undefined;
  pid?: number | undefined;
  /** Cluster worker slot of the writer (`workers: N`). */
  worker?: number | undefined;
  /** Key id of the checkpoint key (from the chain's first record or the pinned key). */
  kid?: string | undefined;
  keySource?: string | undefined;
  firstSeq: number;
  lastSeq: number;
  records: number;
  checkpoints: number;
  /** Seq of the last checkpoint whose signature verified (-1: none). */
  signedThrough: number;
  /** True when the chain ends with a verified `audit.chain_end`. */
  closed: boolean;
  readonly files: string[];
}

/** The result of a verification. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly records: number;
  readonly chains: ChainReport[];
  readonly problems: VerifyProblem[];
}
