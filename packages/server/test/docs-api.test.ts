import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { API_DOC_FILE, buildOpenApiDocument, renderApiReference, sampleOf } from '../../../scripts/generate-api-docs.ts';

test('docs/api.md is what the server\'s OpenAPI document renders to (run scripts/generate-api-docs.ts after changing a route)', async () => {
  const doc = await buildOpenApiDocument();
  const rendered = renderApiReference(doc);
  const committed = await readFile(API_DOC_FILE, 'utf8');
  assert.equal(committed, rendered, 'docs/api.md is stale: node --import tsx scripts/generate-api-docs.ts');
  // Every route of the server has its section with the three client samples.
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const method of Object.keys(methods)) {
      const section = rendered.split(`### ${method.toUpperCase()} ${path}\n`)[1]?.split('\n### ')[0];
      assert.ok(section, `section for ${method.toUpperCase()} ${path}`);
      for (const fence of ['```sh', '```ts', '```python']) assert.ok(section.includes(fence), `${fence} sample for ${method.toUpperCase()} ${path}`);
    }
  }
});

test('a route without client samples, or samples of a route that is gone, stops the generator', async () => {
  const doc = await buildOpenApiDocument();
  const withNewRoute = structuredClone(doc);
  withNewRoute.paths['/api/v1/brand-new'] = { get: { summary: 'new', responses: {} } };
  assert.throws(() => renderApiReference(withNewRoute), /No client samples for GET \/api\/v1\/brand-new/);
  const withoutTargets = structuredClone(doc);
  delete withoutTargets.paths['/api/v1/targets'];
  assert.throws(() => renderApiReference(withoutTargets), /SAMPLES has routes the server does not: GET \/api\/v1\/targets, POST \/api\/v1\/targets/);
});

test('sample responses follow the schema: references, nullable variants, arrays and examples', () => {
  const doc = { info: { title: 't', version: '1' }, paths: {}, components: { schemas: { Box: { type: 'object', properties: { x_min: { type: 'number' }, image_id: { type: 'integer' } } } } } };
  const schema = {
    type: 'object', properties: {
      boxes: { type: 'array', items: { $ref: '#/components/schemas/Box' } },
      heatmap_url: { anyOf: [{ type: 'object', nullable: true, enum: [null] }, { type: 'string' }] },
      status: { type: 'string', enum: ['creating', 'active'] },
      expires: { type: 'integer', example: 2592000 },
    },
  };
  assert.deepEqual(sampleOf(schema, doc), { boxes: [{ x_min: 0.5, image_id: 1 }], heatmap_url: '<heatmap_url>', status: 'creating', expires: 2592000 });
});
