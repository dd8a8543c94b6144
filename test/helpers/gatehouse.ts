import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { validateConfig } from '../../src/config/load.js';
import { substituteEnv, type EnvIssue } from '../../src/config/env.js';
import { Gateway } from '../../src/server/gateway.js';
import type { AuditEvent } from '../../src/audit/event.js';

/** A gateway running in this process for a test. */
export interface TestGateway {
  /** Base URL of the first listener, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  readonly gateway: Gateway;
  /** Every audit event, in order. */
  readonly audit: AuditEvent[];
  /** Every pino log line, parsed. */
  readonly logs: Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Starts Gatehouse from a config object (the YAML document as JS), with `${VAR}` substitution
 * from `opts.env`. Unless the config names listeners, one HTTP listener binds 127.0.0.1:0.
 * Log lines and audit events are captured in memory.
 */
export async function startGatehouse(
  config: Record<string, unknown>,
  opts: { env?: Record<string, string>; baseDir?: string } = {},
): Promise<TestGateway> {
  const logs: Record<string, unknown>[] = [];
  const audit: AuditEvent[] = [];
  const server = (config.server ?? {}) as Record<string, unknown>;
  const doc = { ...config, server: { listeners: [{ address: '127.0.0.1', port: 0 }], ...server } };
  const issues: EnvIssue[] = [];
  const substituted = substituteEnv(doc, { ...process.env, ...opts.env }, issues);
  const cfg = validateConfig(substituted, undefined, issues);
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  }) as unknown as DestinationStream;
  const gateway = Gateway.create({
    config: cfg,
    baseDir: opts.baseDir ?? process.cwd(),
    logDestination: dest,
    auditCapture: audit,
  });
  await gateway.start();
  const first = gateway.listeners[0];
  if (!first) throw new Error('no listener bound');
  return {
    url: first.url,
    port: first.port,
    gateway,
    audit,
    logs,
    close: () => gateway.close(2000),
  };
}
