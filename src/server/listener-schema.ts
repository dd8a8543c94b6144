import { z } from 'zod';

const tlsVersion = z.enum(['TLSv1.2', 'TLSv1.3']);

/**
 * A listener's certificate: PEM `cert` + `key`, or one PKCS#12 `pfx` file (Windows exports),
 * exactly one form. `passphrase` opens the pfx or an encrypted PEM key.
 */
export const listenerTlsSchema = z
  .object({
    cert: z.string().min(1).optional().describe('Path to the PEM certificate chain (with `key`).'),
    key: z.string().min(1).optional().describe('Path to the PEM private key (with `cert`).'),
    pfx: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Path to a PKCS#12 file (.pfx/.p12) holding the certificate chain and key, instead of cert/key.',
      ),
    passphrase: z
      .string()
      .optional()
      .describe(
        'Passphrase of the pfx file or of an encrypted PEM key; take it from the environment: ${PFX_PASSPHRASE}.',
      ),
    min_version: tlsVersion.default('TLSv1.2'),
    client_ca: z.string().optional().describe('PEM bundle of CAs that sign client certificates (mTLS).'),
    client_certificate: z.enum(['none', 'request', 'require']).default('none'),
  })
  .strict()
  .superRefine((t, ctx) => {
    const pem = t.cert !== undefined || t.key !== undefined;
    if (t.pfx !== undefined && pem) {
      ctx.addIssue({
        code: 'custom',
        path: ['pfx'],
        message: 'set either pfx or cert and key, not both',
      });
    } else if (t.pfx === undefined) {
      if (t.cert === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['cert'],
          message: 'required (or pfx instead of cert and key)',
        });
      if (t.key === undefined)
        ctx.addIssue({ code: 'custom', path: ['key'], message: 'required (or pfx instead of cert and key)' });
    }
  });

/** One entry of `server.listeners`. */
export const listenerSchema = z
  .object({
    name: z.string().optional(),
    address: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
    tls: listenerTlsSchema.optional(),
    redirect_to_https: z
      .boolean()
      .optional()
      .describe(
        'Plain-HTTP listener that only redirects to https (301 for GET/HEAD, 308 otherwise), for hosts named by a route or server.external_url; it never proxies.',
      ),
    https_port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe(
        'Port of the https URL redirected to (omitted when 443). Default 443; set it when the TLS listener is public on another port.',
      ),
  })
  .strict()
  .superRefine((l, ctx) => {
    if (l.redirect_to_https && l.tls !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['redirect_to_https'],
        message: 'a redirect listener is plain HTTP: remove tls (the https listener is another entry)',
      });
    if (l.https_port !== undefined && !l.redirect_to_https)
      ctx.addIssue({
        code: 'custom',
        path: ['https_port'],
        message: 'only used with redirect_to_https: true',
      });
  });

export type ListenerConfig = z.output<typeof listenerSchema>;
