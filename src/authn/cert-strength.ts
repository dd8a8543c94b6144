import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate } from 'node:tls';
import { keyWeakness } from './key-strength.js';

/** Why a client certificate chain is refused, with its audit reason. */
export interface CertWeakness {
  readonly reason: 'mtls.cert.weak_key' | 'mtls.cert.weak_signature';
  readonly detail: string;
}

/**
 * Certificate signature algorithms Gatehouse trusts, by OID: RSA PKCS#1 v1.5 and ECDSA with
 * SHA-2 or SHA-3, RSASSA-PSS (hash checked separately), Ed25519, Ed448. Everything else —
 * SHA-1 (`1.2.840.113549.1.1.5`, `1.2.840.10045.4.1`), MD5, MD2, DSA — is refused.
 */
const STRONG_SIGNATURES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption'],
  ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption'],
  ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption'],
  ['1.2.840.113549.1.1.14', 'sha224WithRSAEncryption'],
  ['1.2.840.10045.4.3.1', 'ecdsa-with-SHA224'],
  ['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256'],
  ['1.2.840.10045.4.3.3', 'ecdsa-with-SHA384'],
  ['1.2.840.10045.4.3.4', 'ecdsa-with-SHA512'],
  ['2.16.840.1.101.3.4.3.10', 'ecdsa-with-SHA3-256'],
  ['2.16.840.1.101.3.4.3.11', 'ecdsa-with-SHA3-384'],
  ['2.16.840.1.101.3.4.3.12', 'ecdsa-with-SHA3-512'],
  ['2.16.840.1.101.3.4.3.14', 'rsa-with-SHA3-256'],
  ['2.16.840.1.101.3.4.3.15', 'rsa-with-SHA3-384'],
  ['2.16.840.1.101.3.4.3.16', 'rsa-with-SHA3-512'],
  ['1.3.101.112', 'Ed25519'],
  ['1.3.101.113', 'Ed448'],
]);

/** Names for the refusal message of well-known weak algorithms. */
const WEAK_NAMES: ReadonlyMap<string, string> = new Map([
  ['1.2.840.113549.1.1.5', 'sha1WithRSAEncryption'],
  ['1.3.14.3.2.29', 'sha1WithRSA'],
  ['1.2.840.10045.4.1', 'ecdsa-with-SHA1'],
  ['1.2.840.10040.4.3', 'dsa-with-SHA1'],
  ['1.2.840.113549.1.1.4', 'md5WithRSAEncryption'],
  ['1.2.840.113549.1.1.2', 'md2WithRSAEncryption'],
]);

const RSASSA_PSS = '1.2.840.113549.1.1.10';
/** SHA-224/256/384/512 and SHA-512/224, SHA-512/256 (NIST hash algorithm OIDs). */
const SHA2 = /^2\.16\.840\.1\.101\.3\.4\.2\.[1-6]$/;

interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/** One DER element at `off` (X.690 §8.1: definite lengths only, as DER requires). */
function tlv(buf: Buffer, off: number, limit: number): Tlv | undefined {
  if (off + 2 > limit) return undefined;
  const tag = buf[off] as number;
  let len = buf[off + 1] as number;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] as number);
    start += n;
  }
  const end = start + len;
  return end <= limit ? { tag, start, end } : undefined;
}

function oid(buf: Buffer, t: Tlv): string {
  const out: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    const b = buf[i] as number;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (out.length === 0) out.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else out.push(v);
      v = 0;
    }
  }
  return out.join('.');
}

/**
 * The outer `signatureAlgorithm` of a DER certificate (RFC 5280 §4.1.1.2): its OID and, for
 * RSASSA-PSS, the OID of the hash in its parameters (RFC 4055 §3.1: absent means SHA-1).
 */
function signatureAlgorithm(der: Buffer): { oid: string; pssHash?: string } | undefined {
  const cert = tlv(der, 0, der.length);
  if (!cert || cert.tag !== 0x30) return undefined;
  const tbs = tlv(der, cert.start, cert.end);
  if (!tbs) return undefined;
  const alg = tlv(der, tbs.end, cert.end);
  if (!alg || alg.tag !== 0x30) return undefined;
  const id = tlv(der, alg.start, alg.end);
  if (!id || id.tag !== 0x06) return undefined;
  const algOid = oid(der, id);
  if (algOid !== RSASSA_PSS) return { oid: algOid };
  const params = tlv(der, id.end, alg.end);
  const hashField = params && params.tag === 0x30 ? tlv(der, params.start, params.end) : undefined;
  if (!hashField || hashField.tag !== 0xa0) return { oid: algOid, pssHash: '1.3.14.3.2.26' };
  const hashAlg = tlv(der, hashField.start, hashField.end);
  const hashId = hashAlg && hashAlg.tag === 0x30 ? tlv(der, hashAlg.start, hashAlg.end) : undefined;
  return { oid: algOid, pssHash: hashId && hashId.tag === 0x06 ? oid(der, hashId) : '?' };
}

/** Why one certificate is weak: its key, or the signature its issuer made over it. */
export function certWeakness(der: Buffer): CertWeakness | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(der);
  } catch (e) {
    return { reason: 'mtls.cert.weak_key', detail: `certificate cannot be parsed: ${(e as Error).message}` };
  }
  const key = keyWeakness(x509.publicKey);
  if (key !== undefined) return { reason: 'mtls.cert.weak_key', detail: `${x509.subject}: ${key}` };
  const sig = signatureAlgorithm(der);
  if (sig === undefined)
    return { reason: 'mtls.cert.weak_signature', detail: `${x509.subject}: signature algorithm unreadable` };
  if (sig.oid === RSASSA_PSS) {
    if (sig.pssHash !== undefined && SHA2.test(sig.pssHash)) return undefined;
    return {
      reason: 'mtls.cert.weak_signature',
      detail: `${x509.subject}: RSASSA-PSS with hash ${sig.pssHash === '1.3.14.3.2.26' ? 'SHA-1' : (sig.pssHash ?? '?')}`,
    };
  }
  if (STRONG_SIGNATURES.has(sig.oid)) return undefined;
  return {
    reason: 'mtls.cert.weak_signature',
    detail: `${x509.subject}: signed with ${WEAK_NAMES.get(sig.oid) ?? sig.oid}`,
  };
}

/**
 * Checks a client certificate and every certificate of its chain up to, not including, the
 * self-signed trust anchor (the operator's `tls.client_ca`, whose own signature nobody relies
 * on). Runs once per TLS connection.
 */
export function chainWeakness(leaf: PeerCertificate | DetailedPeerCertificate): CertWeakness | undefined {
  const seen = new Set<PeerCertificate>();
  let cert: PeerCertificate | undefined = leaf;
  while (cert?.raw !== undefined && !seen.has(cert)) {
    seen.add(cert);
    const issuer: PeerCertificate | undefined = (cert as Partial<DetailedPeerCertificate>).issuerCertificate;
    if (cert !== leaf && issuer === cert) break; // the self-signed trust anchor
    const w = certWeakness(cert.raw);
    if (w) return w;
    cert = issuer;
  }
  return undefined;
}
