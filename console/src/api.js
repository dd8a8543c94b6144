/**
 * The admin API of the console's own origin. Every URL is relative (`api/...`), so the console
 * works under any path prefix; mutations carry `X-Gatehouse-Admin: 1` (the API's CSRF check).
 * @module
 */

/** An API answer that was not 2xx: its status, error code and message. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {string} [requestId]
   */
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** Listeners told when the API answers 401/403 (signed out, no access). @type {Set<(e: ApiError) => void>} */
const authListeners = new Set();

/**
 * Calls `fn` whenever an API call is refused for authentication or authorisation.
 * @param {(e: ApiError) => void} fn
 * @returns {() => void} unsubscribe
 */
export function onAuthError(fn) {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

/**
 * The query string of the non-empty parameters, with its leading `?` (or an empty string).
 * @param {Record<string, string | number | undefined | null>} params
 */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && String(v).trim() !== '') q.set(k, String(v).trim());
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * @param {Response} res
 * @returns {Promise<ApiError>}
 */
async function errorOf(res) {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let requestId = res.headers.get('x-request-id') ?? undefined;
  try {
    const body = await res.json();
    const e = body && typeof body === 'object' && 'error' in body ? body.error : body;
    if (e && typeof e === 'object') {
      if (typeof e.code === 'string') code = e.code;
      if (typeof e.message === 'string') message = e.message;
      if (typeof e.request_id === 'string') requestId = e.request_id;
    } else if (typeof e === 'string') code = e;
    if (typeof body?.message === 'string') message = body.message;
    if (typeof body?.request_id === 'string') requestId = body.request_id;
  } catch {
    // not JSON: keep the status line
  }
  const err = new ApiError(res.status, code, message, requestId);
  if (res.status === 401 || res.status === 403) for (const fn of authListeners) fn(err);
  return err;
}

/**
 * @param {string} method
 * @param {string} path relative to the console, e.g. `api/health`
 * @param {unknown} [body]
 */
async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-Gatehouse-Admin'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    cache: 'no-store',
    redirect: 'manual',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.type === 'opaqueredirect') {
    const err = new ApiError(401, 'signed_out', 'The admin session ended: sign in again.');
    for (const fn of authListeners) fn(err);
    throw err;
  }
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return {};
  return res.json();
}

/**
 * GET a JSON resource.
 * @param {string} path
 * @param {Record<string, string | number | undefined | null>} [params]
 * @returns {Promise<any>}
 */
export const get = (path, params = {}) => call('GET', path + query(params));

/**
 * POST (a mutation: carries the admin header).
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export const post = (path, body) => call('POST', path, body);

/**
 * DELETE (a mutation: carries the admin header).
 * @param {string} path
 * @returns {Promise<any>}
 */
export const del = (path) => call('DELETE', path);

/** Encodes one path segment. @param {string} s */
export const seg = (s) => encodeURIComponent(s);
