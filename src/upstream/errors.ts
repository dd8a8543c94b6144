import { GatehouseError } from '../errors/index.js';

const TIMEOUT = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
/** Seconds a client is asked to wait after a busy upstream refused it. */
const BUSY_HEADERS: Record<string, string> = Object.freeze({ 'Retry-After': '1' });
const TLS_PREFIX = /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL|HOSTNAME_MISMATCH)/;

/** Maps an undici/socket error from an upstream exchange to a GatehouseError (502/504). */
export function upstreamError(err: unknown, upstream: string): GatehouseError {
  if (err instanceof GatehouseError) return err;
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = e?.code ?? e?.cause?.code ?? '';
  const detail = `upstream ${upstream}: ${code || (e?.message ?? 'error')}`;
  // The pool's own refusals: nothing was sent upstream, the client may retry shortly.
  if (code === 'ERR_QUEUE_FULL' || code === 'ERR_QUEUE_TIMEOUT')
    return new GatehouseError(
      code === 'ERR_QUEUE_FULL' ? 'GH_UPSTREAM_BUSY' : 'GH_UPSTREAM_QUEUE_TIMEOUT',
      detail,
      {
        cause: err,
        headers: BUSY_HEADERS,
      },
    );
  if (TIMEOUT.has(code)) return new GatehouseError('GH_UPSTREAM_TIMEOUT', detail, { cause: err });
  if (TLS_PREFIX.test(code)) {
    return new GatehouseError('GH_UPSTREAM_TLS', detail, { cause: err });
  }
  if (
    code === 'HPE_INVALID_CONSTANT' ||
    code.startsWith('HPE_') ||
    code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH'
  ) {
    return new GatehouseError('GH_UPSTREAM_BAD_RESPONSE', detail, { cause: err });
  }
  return new GatehouseError('GH_UPSTREAM_UNAVAILABLE', detail, { cause: err });
}
