import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { Outbound, ProxySettingError } from './outbound.js';

/** The provider keys that decide its outbound route. */
export interface ProviderOutboundConfig {
  readonly proxy?: string | undefined;
  readonly ca?: string | undefined;
  readonly http_timeout?: number | undefined;
}

/** What {@link providerOutbound} needs from the compile context (all of it optional but the logger). */
export interface OutboundCompileContext {
  readonly logger: Logger;
  readonly baseDir?: string;
  readonly services?: Map<string, unknown>;
  readonly dryRun?: boolean;
  issue?(path: string, message: string, severity?: 'error' | 'warning'): void;
  onClose?(fn: () => Promise<void> | void): void;
}

const SERVICE = 'outbound';
const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads and checks a CA bundle: every PEM certificate in it must parse, and there must be one.
 * Returns the PEM text, or a message naming the problem.
 */
export function readCaBundle(path: string, baseDir: string): { pem: string } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(resolve(baseDir, path), 'utf8');
  } catch (e) {
    return { problem: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` };
  }
  const blocks = text.match(PEM_CERT) ?? [];
  if (blocks.length === 0)
    return { problem: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` };
  for (const [i, b] of blocks.entries()) {
    try {
      new X509Certificate(b);
    } catch (e) {
      return { problem: `${path}: certificate ${i + 1} does not parse: ${(e as Error).message}` };
    }
  }
  return { pem: blocks.join('\n') };
}

/**
 * The {@link Outbound} of provider `name`, built once per config load and shared by everything
 * that calls its IdP (bearer-token keys and introspection, and the login client): memoised in
 * the compile context's services, closed with the compiled state. Problems (an unreadable CA
 * bundle, a malformed proxy URL in the config or the environment) are reported with the
 * provider's key path; then it returns an outbound that refuses every call. Without services
 * (tools compiling providers alone) it is not shared: the client using it closes it.
 */
export function providerOutbound(
  cctx: OutboundCompileContext,
  name: string,
  cfg: ProviderOutboundConfig,
): Outbound {
  let memo = cctx.services?.get(SERVICE) as Map<string, Outbound> | undefined;
  const known = memo?.get(name);
  if (known) return known;
  if (cctx.services && !memo) {
    const created = new Map<string, Outbound>();
    memo = created;
    cctx.services.set(SERVICE, created);
    cctx.onClose?.(async () => {
      await Promise.all([...created.values()].map((o) => o.close()));
    });
  }
  const issue = (key: string, message: string) =>
    cctx.issue
      ? cctx.issue(`providers.${name}.${key}`, message)
      : cctx.logger.error({ provider: name }, `providers.${name}.${key}: ${message}`);
  let ca: string | undefined;
  let failed: string | undefined;
  if (cfg.ca !== undefined) {
    const r = readCaBundle(cfg.ca, cctx.baseDir ?? process.cwd());
    if ('problem' in r) {
      issue('ca', r.problem);
      failed = `providers.${name}.ca`;
    } else ca = r.pem;
  }
  let out: Outbound;
  try {
    out =
      failed !== undefined
        ? Outbound.unusable(failed)
        : new Outbound({
            proxy: cfg.proxy ?? 'env',
            ca,
            timeoutMs: cfg.http_timeout ?? 5_000,
            shared: memo !== undefined,
          });
  } catch (e) {
    if (!(e instanceof ProxySettingError)) throw e;
    issue('proxy', e.source === 'config' ? e.message : `${e.source} in the environment: ${e.message}`);
    failed = `providers.${name}.proxy`;
    out = Outbound.unusable(failed);
  }
  memo?.set(name, out);
  if (failed === undefined && !cctx.dryRun)
    cctx.logger.info(
      { provider: name, outbound: out.description, ca: cfg.ca },
      `calls to identity provider "${name}" go ${out.description}`,
    );
  return out;
}
