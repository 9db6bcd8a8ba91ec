import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { API_DOC_PATH, renderApiDocs } from '../scripts/api-docs.ts';

it('API.md is generated from the current source (run packages/sdk/scripts/api-docs.ts after changing the SDK)', () => {
  const generated = renderApiDocs();
  for (const method of ['authorize', 'activateLicense', 'getVersionNumber', 'getItems', 'getAlgorithms', 'getModels', 'deleteModels', 'train', 'upload', 'setAnnotations', 'getItem', 'serve', 'getProcesses', 'waitForModel', 'waitForItems', 'uploadFolder']) {
    assert.match(generated, new RegExp(`^### \`(async )?${method}\\(`, 'm'), `${method} is documented`);
  }
  assert.equal(readFileSync(API_DOC_PATH, 'utf8'), generated);
});
