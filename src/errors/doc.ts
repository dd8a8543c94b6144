import { catalogue } from './catalogue.js';

/** Renders the error-code catalogue as the Markdown of `docs/errors.md`. */
export function renderErrorsDoc(): string {
  const rows = Object.entries(catalogue)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.message} | ${e.meaning.replaceAll('|', '\\|')} |`);
  return `# Error codes

Every response Gatehouse itself produces carries one of these codes. API clients receive JSON
\`{"error": "<code>", "message": "<safe message>", "reason": "<reason>", "request_id": "<id>"}\`
(\`reason\`, a client-safe reason code such as \`group_required\` or \`credential_expired\`, on
refusals only: see [pages.md](pages.md#reason-codes)); browsers the \`error\` page (an operator
can replace it, see [pages.md](pages.md)) with the same code, the reason in plain words and the
request id. The same code appears in the access log line and the audit
event of the request (\`error\`, \`reasons\`), so \`grep\` for the request id answers "why".
Callers and integrations should \`switch\` on the code, never on the message.

This file is generated from \`src/errors/codes-*.ts\` by \`npm run docs:errors\`; a test fails when they differ.

| code | status | message | meaning |
|---|---:|---|---|
${rows.join('\n')}
`;
}
