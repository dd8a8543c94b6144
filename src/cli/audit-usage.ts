/** `--help` of `gatehouse audit`. */
export const AUDIT_USAGE = `usage: gatehouse audit verify FILE... [--key PUBKEY] [--complete] [--json]
       gatehouse audit keygen --out PRIVATE.pem

verify: checks the hash chains and signed checkpoints of audit files (give rotated files
oldest first; chains may span files and interleave). Says where each problem is: file, line,
chain and seq: a record edited, removed, reordered, inserted, or a file cut mid-record.

  --key PUBKEY   pin the checkpoint key: a PEM file (public or private key) or its key id
                 (the "kid" in audit.chain_start records); without it each chain's own
                 embedded key is used
  --complete     a chain without a signed audit.chain_end is an error (stopped processes)
  --json         the report as JSON

keygen: writes a new Ed25519 private key for audit.integrity.key_file (mode 0600) and prints
its public key and key id, to hand to the auditors.

exit status: 0 verified, 1 problems found, 2 usage error
`;
