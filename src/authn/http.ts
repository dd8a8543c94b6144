import { Agent, request } from 'undici';

/** Largest discovery/JWKS/introspection response accepted. */
const MAX_BODY = 512 * 1024;

/** HTTP client for IdP calls: one connection pool per provider registry, closed with it. */
export class IdpHttp {
  private readonly agent: Agent;

  constructor(private readonly timeoutMs: number) {
    this.agent = new Agent({
      connect: { timeout: timeoutMs },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 4_000,
    });
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
    const res = await request(url, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...init.headers },
      body: init.body,
      dispatcher: this.agent,
      signal,
    });
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
    await this.agent.close().catch(() => undefined);
  }
}
