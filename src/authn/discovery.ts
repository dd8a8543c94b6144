import type { IdpHttp } from './http.js';

/** The parts of OpenID Provider Metadata Gatehouse uses. */
export interface DiscoveryDocument {
  readonly issuer: string;
  readonly jwks_uri?: string | undefined;
  readonly introspection_endpoint?: string | undefined;
}

/** `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4). */
export function discoveryUrlFor(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

function httpUrl(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || u.protocol === 'http:' ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Fetches and validates a provider's discovery document once (retried on the next call after a
 * failure). The document's `issuer` must equal the configured issuer exactly (§4.3), so a
 * metadata host can never hand out keys for another issuer.
 */
export class Discovery {
  private doc: DiscoveryDocument | undefined;
  private inflight: Promise<DiscoveryDocument> | undefined;

  constructor(
    private readonly http: IdpHttp,
    readonly url: string,
    private readonly issuer: string,
  ) {}

  get(): Promise<DiscoveryDocument> {
    if (this.doc) return Promise.resolve(this.doc);
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<DiscoveryDocument> {
    const raw = await this.http.json(this.url);
    if (typeof raw !== 'object' || raw === null)
      throw new Error(`discovery document at ${this.url} is not a JSON object`);
    const d = raw as Record<string, unknown>;
    if (d.issuer !== this.issuer) {
      throw new Error(
        `discovery document at ${this.url} names issuer ${JSON.stringify(d.issuer)}, expected ${JSON.stringify(this.issuer)}`,
      );
    }
    this.doc = Object.freeze({
      issuer: this.issuer,
      jwks_uri: httpUrl(d.jwks_uri),
      introspection_endpoint: httpUrl(d.introspection_endpoint),
    });
    return this.doc;
  }
}
