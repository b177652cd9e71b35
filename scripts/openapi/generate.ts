// Writes the published API description, docs/openapi.json, from the route registry
// (src/http/openapi). `npm run openapi` runs it after a change of a route or a schema; a unit
// test fails while the committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiDocument } from '../../src/http/openapi';

/** Where the document is kept in the repository. */
export const DOCUMENT_PATH = join(__dirname, '..', '..', 'docs', 'openapi.json');

/** The file's text: two-space JSON and a final newline, so diffs stay readable. */
export function documentText(): string {
  return `${JSON.stringify(apiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(DOCUMENT_PATH, documentText());
  process.stdout.write(`wrote ${DOCUMENT_PATH}\n`);
}
