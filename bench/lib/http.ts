import { request } from 'node:http';

/** A complete response, for correctness gates. */
export interface SimpleResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** One HTTP/1.1 request on a fresh connection, with a 5 s deadline. */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** One POST with `body` on a fresh connection, with a 5 s deadline. */
export function httpPost(url: string, body: string): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(body) },
        agent: false,
        timeout: 5000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`POST ${url}: no answer within 5 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Throws a gate failure naming the candidate, the check and what was received. */
export function expectStatus(what: string, res: SimpleResponse, status: number): void {
  if (res.status !== status) {
    throw new Error(
      `${what}: expected HTTP ${status}, got ${res.status} ${res.body.slice(0, 300).replace(/\s+/g, ' ')}`,
    );
  }
}
