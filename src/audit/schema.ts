import { z } from 'zod';
import { duration, size } from '../util/units.js';

const onFailure = z
  .enum(['drop', 'block'])
  .default('drop')
  .describe(
    '`drop`: while the sink cannot write, events beyond its buffer are dropped and counted. `block`: fail closed, requests are refused with 503 GH_AUDIT_UNAVAILABLE while the sink cannot write.',
  );

const buffer = z
  .object({
    max_events: z.number().int().min(1).default(10_000).describe('Events held while the sink cannot write.'),
    max_bytes: size.default(16 * 1024 * 1024).describe('Bytes held while the sink cannot write.'),
  })
  .strict()
  .prefault({})
  .describe('Bounded buffer: beyond either cap new events are dropped (and counted).');

const retry = z
  .object({
    initial: duration.default(250).describe('First wait after a failed write.'),
    max: duration.default(30_000).describe('Longest wait between attempts (the wait doubles up to it).'),
  })
  .strict()
  .prefault({})
  .describe('Retry with exponential backoff (and jitter) while the sink cannot write.');

const common = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-"')
    .optional()
    .describe('Sink name (the `sink` label of the audit metrics). Default: the type, then the index.'),
  on_failure: onFailure,
  buffer,
  retry,
};

const fileSinkSchema = z
  .object({
    type: z.literal('file'),
    path: z.string().min(1).describe('Append-only JSON-lines file (relative: from the config file).'),
    reopen_check: duration
      .default(1000)
      .describe('How often the path is checked (inode) to reopen a file rotated away or removed; 0: never.'),
    ...common,
  })
  .strict();

const tlsSchema = z
  .object({
    ca: z.string().optional().describe('PEM file of the CA that signed the syslog server certificate.'),
    cert: z.string().optional().describe('Client certificate (PEM file) when the server asks for one.'),
    key: z.string().optional().describe('Private key (PEM file) of the client certificate.'),
    server_name: z.string().optional().describe('Name checked in the server certificate. Default: the host.'),
  })
  .strict();

const syslogSinkSchema = z
  .object({
    type: z.literal('syslog'),
    address: z
      .string()
      .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT such as "logs.example.com:6514"')
      .describe('Syslog server, HOST:PORT (TCP, RFC 6587 octet counting).'),
    tls: z
      .union([z.literal(true), tlsSchema])
      .optional()
      .describe('RFC 5425 syslog over TLS (`true`: the system CAs).'),
    facility: z
      .enum(['auth', 'authpriv', 'daemon', 'user', 'local0', 'local1', 'local2', 'local3', 'local4'])
      .default('authpriv'),
    app_name: z
      .string()
      .regex(/^[!-~]{1,48}$/, 'expected 1 to 48 printable ASCII characters')
      .default('gatehouse'),
    hostname: z
      .string()
      .regex(/^[!-~]{1,255}$/)
      .optional()
      .describe('HOSTNAME field. Default: os.hostname().'),
    ...common,
  })
  .strict();

const httpSinkSchema = z
  .object({
    type: z.literal('http'),
    url: z
      .string()
      .url()
      .refine((s) => /^https?:\/\//.test(s), 'expected an http(s) URL')
      .describe(
        'Collector endpoint (Splunk `/services/collector/event`, Elastic `/_bulk`, any JSON-lines receiver).',
      ),
    format: z.enum(['jsonl', 'splunk_hec', 'elastic_bulk']).default('jsonl'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Request headers, e.g. `Authorization: "Splunk ${HEC_TOKEN}"`.'),
    index: z.string().optional().describe('Splunk index or Elastic index/data stream.'),
    batch_events: z.number().int().min(1).default(500).describe('Most events per request.'),
    batch_interval: duration.default(1000).describe('Longest time an event waits for its batch.'),
    timeout: duration.default(10_000).describe('Request timeout.'),
    ...common,
  })
  .strict();

/** One entry of `audit.sinks`. */
export const auditSinkSchema = z.discriminatedUnion('type', [
  fileSinkSchema,
  syslogSinkSchema,
  httpSinkSchema,
]);

/** `audit.integrity`: the hash chain and signed checkpoints. */
export const integritySchema = z
  .object({
    enabled: z.boolean().default(true).describe('Chain every event (seq + hash of the previous one).'),
    key_file: z
      .string()
      .optional()
      .describe(
        'Ed25519 private key (PKCS#8 PEM) signing checkpoints. Default: a key generated at each start, its public key in the first record of the chain.',
      ),
    checkpoint_every: z.number().int().min(1).default(1000).describe('Events between signed checkpoints.'),
    checkpoint_interval: duration
      .default(60_000)
      .describe('Longest time between signed checkpoints while events are written; 0: by count only.'),
  })
  .strict()
  .prefault({});

/** The `audit` section of the config. */
export const auditSchema = z
  .object({
    stdout: z.boolean().default(false),
    file: z.string().optional().describe('Append-only JSON-lines audit file (a `file` sink with defaults).'),
    level: z.enum(['info', 'debug']).default('info').describe('`debug` adds the full decision trace.'),
    integrity: integritySchema,
    sinks: z.array(auditSinkSchema).default([]).describe('File, syslog and HTTP batch sinks.'),
  })
  .strict()
  .superRefine((a, ctx) => {
    const seen = new Set<string>();
    a.sinks.forEach((s, i) => {
      if (s.name === undefined) return;
      if (seen.has(s.name))
        ctx.addIssue({
          code: 'custom',
          path: ['sinks', i, 'name'],
          message: `duplicate sink name "${s.name}"`,
        });
      seen.add(s.name);
    });
  })
  .prefault({});

export type AuditConfig = z.output<typeof auditSchema>;
export type AuditSinkConfig = z.output<typeof auditSinkSchema>;
export type FileSinkConfig = z.output<typeof fileSinkSchema>;
export type SyslogSinkConfig = z.output<typeof syslogSinkSchema>;
export type HttpSinkConfig = z.output<typeof httpSinkSchema>;
export type IntegrityConfig = z.output<typeof integritySchema>;
