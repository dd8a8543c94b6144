/**
 * What a failed `kinit` / `kvno` means, from its stderr. The MIT tools exit 1 for every failure
 * and print the krb5 error table's text (com_err, `krb5_err.et` / `kdb5_err.et`), so the text is
 * the only signal. These are the exact MIT messages matched; each class is tested against a
 * real KDC's answer (test/kerberos/unit-kdc-messages.test.ts). Anything else is `failed`, which
 * also fails closed.
 */

/** How a failure is answered: 503 (KDC down, other) or 403 (this user, the delegation). */
export type ToolFailure = 'kdc_unavailable' | 'unknown_user' | 'delegation_denied' | 'failed';

/** One matched message: the MIT error name, the text matched, and the class. */
export interface KdcMessage {
  readonly error: string;
  readonly pattern: RegExp;
  readonly kind: Exclude<ToolFailure, 'failed'>;
}

/** The messages matched, in order (first match wins). */
export const KDC_MESSAGES: readonly KdcMessage[] = [
  // "Cannot contact any KDC for realm 'CORP.EXAMPLE'" / "… for requested realm"
  { error: 'KRB5_KDC_UNREACH', pattern: /Cannot contact any KDC for /, kind: 'kdc_unavailable' },
  // "Cannot find KDC for realm 'CORP.EXAMPLE'" / "Cannot resolve network address for KDC in requested realm"
  {
    error: 'KRB5_REALM_CANT_RESOLVE',
    pattern: /Cannot find KDC for realm|Cannot resolve network address for KDC in /,
    kind: 'kdc_unavailable',
  },
  // "Client 'nosuch@CORP.EXAMPLE' not found in Kerberos database" (S4U2Self for an unknown account)
  {
    error: 'KDC_ERR_C_PRINCIPAL_UNKNOWN',
    pattern: /Client '[^']*' not found in Kerberos database/,
    kind: 'unknown_user',
  },
  // S4U2Proxy refused: "KDC can't fulfill requested option … constrained delegation failed"
  { error: 'KDC_ERR_BADOPTION', pattern: /KDC can't fulfill requested option/, kind: 'delegation_denied' },
  { error: 'KDC_ERR_POLICY', pattern: /KDC policy rejects request/, kind: 'delegation_denied' },
];

/** The class of a failure from the tool's stderr. */
export function classifyFailure(stderr: string): ToolFailure {
  for (const m of KDC_MESSAGES) if (m.pattern.test(stderr)) return m.kind;
  return 'failed';
}
