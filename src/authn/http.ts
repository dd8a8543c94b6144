import { request } from 'undici';
import { Outbound } from '../net/outbound.js';

/** Largest discovery/JWKS/introspection response accepted. */
const MAX_BODY = 512 * 1024;

/**
 * HTTP client for one provider's IdP calls (discovery, JWKS, introspection). Its connections go
 * through `outbound` (the provider's proxy and CA settings, built once at load; a shared one is
 * closed by whoever built it); without one, it builds its own from the proxy environment.
 */
export class IdpHttp {
  private readonly outbound: Outbound;
  private readonly owned: boolean;

  constructor(
    private readonly timeoutMs: number,
    outbound?: Outbound,
  ) {
    this.owned = outbound === undefined || !outbound.shared;
    this.outbound = outbound ?? new Outbound({ proxy: 'env', timeoutMs });
  }

  /**
   * GETs or POSTs `url` and returns the parsed JSON body. Redirects are not followed; any status
   * other than 200, a body over 512 KiB, a timeout or invalid JSON throws.
   */
  async json(
    url: string,
    init: {
      method?: 'GET' | 'POST';
      headers?: Record<string, string>;
      body?: string;
      timeoutMs?: number;
    } = {},
  ): Promise<unknown> {
    const signal = AbortSignal.timeout(init.timeoutMs ?? this.timeoutMs);
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, {
        method: init.method ?? 'GET',
        headers: { accept: 'application/json', ...init.headers },
        body: init.body,
        dispatcher: this.outbound.dispatcher,
        signal,
      });
    } catch (e) {
      throw new Error(`${networkError(e)} (outbound: ${this.outbound.description})`, { cause: e });
    }
    if (res.statusCode !== 200) {
      await res.body.dump().catch(() => undefined);
      throw new Error(`HTTP ${res.statusCode} from ${url}`);
    }
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of res.body) {
      n += (c as Buffer).length;
      if (n > MAX_BODY) {
        res.body.destroy();
        throw new Error(`response from ${url} exceeds ${MAX_BODY} bytes`);
      }
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new Error(`invalid JSON from ${url}`);
    }
  }

  async close(): Promise<void> {
    if (this.owned) await this.outbound.close();
  }
}

/** `CODE: message` of a connection, TLS or proxy failure (the TLS code names the certificate problem). */
function networkError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  const prefix = typeof code === 'string' && !e.message.includes(code) ? `${code}: ` : '';
  return `${prefix}${e.message}`;
}
