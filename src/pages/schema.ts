import { z } from 'zod';

const file = z.string().min(1, 'expected a file path');

/**
 * Top-level `pages` section: operator templates for the pages Gatehouse shows browsers, and
 * branding. Files are read and templates compiled once at config load.
 */
export const pagesSchema = z
  .object({
    templates_dir: file
      .optional()
      .describe(
        'Directory of operator templates: <name>.html replaces the page <name> (error, login_chooser, signed_out); pages without a file keep the built-in template.',
      ),
    templates: z
      .object({
        error: file
          .optional()
          .describe('Template of every error and refusal page (401, 403, 404, 5xx, failed sign-in).'),
        login_chooser: file.optional().describe('Template of the sign-in provider chooser.'),
        signed_out: file.optional().describe('Template of the page shown after sign-out.'),
      })
      .strict()
      .optional()
      .describe('Per-page template files; they take precedence over templates_dir.'),
    branding: z
      .object({
        title: z
          .string()
          .min(1)
          .max(200)
          .optional()
          .describe('Product name shown on every page (default "Gatehouse").'),
        logo_url: z
          .string()
          .regex(
            /^(https:\/\/|http:\/\/|\/(?!\/))[^\s"'<>]*$/,
            'expected an http(s) URL or a path starting with "/"',
          )
          .optional()
          .describe('Logo image shown in the page header.'),
        css_file: file
          .optional()
          .describe('Style sheet added after the built-in one (inlined into every page).'),
      })
      .strict()
      .optional(),
  })
  .strict();

/** The validated `pages` section. */
export type PagesConfig = z.output<typeof pagesSchema>;
