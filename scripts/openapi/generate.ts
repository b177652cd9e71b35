// Writes the published API description, docs/openapi.json, from the route registry
// (src/http/openapi), and the CLI client's TypeScript types generated from it
// (src/cli/client/generated/api.ts, by openapi-typescript). `npm run openapi` runs it after a
// change of a route or a schema; unit tests fail while a committed file differs from what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiDocument } from '../../src/http/openapi';

const ROOT = join(__dirname, '..', '..');
/** Where the document is kept in the repository. */
export const DOCUMENT_PATH = join(ROOT, 'docs', 'openapi.json');
/** Where the client's generated types are kept. */
export const CLIENT_TYPES_PATH = join(ROOT, 'src', 'cli', 'client', 'generated', 'api.ts');

/** The file's text: two-space JSON and a final newline, so diffs stay readable. */
export function documentText(): string {
  return `${JSON.stringify(apiDocument(), null, 2)}\n`;
}

/** The client's types, as openapi-typescript writes them for the document. */
export async function clientTypesText(): Promise<string> {
  const { default: openapiTS, astToString } = await import('openapi-typescript');
  const ast = await openapiTS(JSON.parse(documentText()) as Parameters<typeof openapiTS>[0], { alphabetize: true, defaultNonNullable: false });
  return `// Generated from docs/openapi.json by \`npm run openapi\` (openapi-typescript). Do not edit.\n${astToString(ast)}`;
}

if (require.main === module) {
  void (async () => {
    writeFileSync(DOCUMENT_PATH, documentText());
    writeFileSync(CLIENT_TYPES_PATH, await clientTypesText());
    process.stdout.write(`wrote ${DOCUMENT_PATH}\nwrote ${CLIENT_TYPES_PATH}\n`);
  })();
}
