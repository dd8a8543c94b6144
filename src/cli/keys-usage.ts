/** Usage of `gatehouse keys`, printed by `--help` and after usage errors. */
export const KEYS_USAGE = `usage: gatehouse keys export -c FILE [--out FILE] [--format jwks]

Prints the public JWKS of the signed identity assertion, as Gatehouse serves it at
/.well-known/gatehouse/jwks.json, read from identity.assertion's key_dir or key files. Public
keys only: never a private part. For verifiers that cannot reach Gatehouse (air-gapped IIS
servers: the Gatehouse.AspNet module's gatehouse:jwks_file). Nothing is written or generated:
start Gatehouse once first so that key_dir holds its keys. Export again after each rotation,
while the new key waits out identity.assertion.activation_delay.

  -c, --config FILE   the config file
  --out FILE          write the JWKS to FILE instead of stdout
  --format jwks       the output format (only jwks: {"keys":[…]})
  -h, --help          this help

exit status: 0 exported, 1 configuration or key error, 2 usage error
`;
