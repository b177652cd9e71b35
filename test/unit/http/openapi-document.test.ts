import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { apiDocument, ROUTE_SPECS } from '../../../src/http/openapi';
import { CLIENT_TYPES_PATH, clientTypesText, DOCUMENT_PATH, documentText } from '../../../scripts/openapi/generate';

describe('the published OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document by a maintained validator', async () => {
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const result = await new Validator().validate(apiDocument());
    assert.deepEqual(result.errors ?? [], []);
    assert.equal(result.valid, true);
  });

  it('is committed as docs/openapi.json exactly as the registry generates it (run npm run openapi after a change)', () => {
    assert.equal(readFileSync(DOCUMENT_PATH, 'utf8'), documentText());
  });

  it('is the source of the CLI client\'s committed types (run npm run openapi after a change)', async () => {
    assert.equal(readFileSync(CLIENT_TYPES_PATH, 'utf8'), await clientTypesText());
  });

  it('gives every operation a unique operationId and an answer for each status it names', () => {
    const ids = ROUTE_SPECS.map((r) => r.operationId);
    assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), []);
    const doc = apiDocument();
    for (const r of ROUTE_SPECS) {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method] as { responses: Record<string, unknown> } | undefined;
      assert.ok(op, `${r.method} ${r.path}`);
      for (const status of Object.keys(r.responses)) assert.ok(op.responses[status], `${r.method} ${r.path} ${status}`);
    }
  });

  it('describes every authenticated route with the 401 and 503 problems and the bearer scheme', () => {
    const doc = apiDocument();
    const op = doc.paths['/tasks/{id}']?.['get'] as { responses: Record<string, { content?: Record<string, unknown> }>; security?: unknown };
    assert.ok(op.responses['401']?.content?.['application/problem+json']);
    assert.ok(op.responses['503']);
    assert.equal(op.security, undefined, 'inherits the document\'s bearer requirement');
    assert.deepEqual((doc.paths['/openapi.json']?.['get'] as { security: unknown }).security, []);
  });
});
