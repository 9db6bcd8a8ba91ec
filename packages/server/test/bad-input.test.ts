import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Api, cookie, folderSnapshot, pngHeader, startTestServer, type TestServer } from './helpers.ts';

let server: TestServer;
let api: Api;

before(async () => {
  server = await startTestServer();
  api = await new Api(server.url).login('alice', 'alice-secret');
  await api.upload([cookie('train/good', 0)], { training: 'true', good: 'true' });
});
after(() => server.dispose());

/** The state a refused request must leave unchanged: stored files and every item. */
async function state() {
  const items = await api.get('/api/v1/items');
  return { files: folderSnapshot(join(server.dataDir, 'images')), items: JSON.stringify(items.body.data, (k, v) => (k.endsWith('_image') ? undefined : v)) };
}

async function refusedWithoutChange(send: () => Promise<{ status: number; body: any }>, status: number, titleOrDetail: RegExp) {
  const before = await state();
  const answer = await send();
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.match(JSON.stringify(answer.body.errors), titleOrDetail);
  assert.deepEqual(await state(), before);
  return answer;
}

const real = cookie('train/good', 1);

test('a truncated JPEG is refused, and the valid file beside it is not stored either', async () => {
  const truncated = { name: 'half.jpg', bytes: real.bytes.subarray(0, real.bytes.length / 2) };
  const answer = await refusedWithoutChange(() => api.upload([real, truncated], { training: 'true', good: 'true' }), 400, /Invalid filename half\.jpg: the image data is truncated/);
  assert.equal(answer.body.errors.detail.length, 1);
});

test('a text file named .png, a zero-byte file, a 200-megapixel PNG: each named with its reason', async () => {
  const answer = await refusedWithoutChange(() => api.upload([
    { name: 'text.png', bytes: Buffer.from('just some words, not pixels') },
    { name: 'empty.png', bytes: new Uint8Array(0) },
    { name: 'huge.png', bytes: pngHeader(20_000, 10_000) },
  ], { training: 'true' }), 400, /Invalid Request/);
  assert.deepEqual(answer.body.errors.detail, [
    'Invalid filename text.png: the content is not a PNG, JPEG, TIFF, BMP or WebP image',
    'Invalid filename empty.png: the file is empty',
    'Invalid filename huge.png: the image has 200.0 megapixels; the limit is 100 MP',
  ]);
});

test('a label that is neither true nor false is refused', async () => {
  await refusedWithoutChange(() => api.upload([real], { training: 'true', good: 'maybe' }), 400, /good must be one of true, false/);
  assert.deepEqual(folderSnapshot(join(server.dataDir, 'tmp')), []);
});

test('a path-traversal file name is refused and nothing is written outside the data folder', async () => {
  await refusedWithoutChange(() => api.upload([{ name: '../../escape.jpg', bytes: real.bytes }], { training: 'true' }), 400, /Invalid filename \.\.\/\.\.\/escape\.jpg/);
  assert.equal(existsSync(join(server.dataDir, '..', 'escape.jpg')), false);
  assert.equal(existsSync(join(server.dataDir, 'images', '..', '..', 'escape.jpg')), false);
  await refusedWithoutChange(() => api.upload([{ name: '..\\x.jpg', bytes: real.bytes }], { training: 'true' }), 400, /Invalid filename/);
});

test('1000 files in one request: 413 with the limit, nothing stored', async () => {
  const tiny = pngHeader(4, 4);
  const files = Array.from({ length: 1000 }, (_, i) => ({ name: `f${i}.png`, bytes: tiny }));
  await refusedWithoutChange(() => api.upload(files, { training: 'true' }), 413, /Too many files.*At most 200 files per request/);
  assert.deepEqual(folderSnapshot(join(server.dataDir, 'tmp')), [], 'temporary files are removed');
});

test('wrong JSON and wrong types: 400 naming the problem; a double-encoded JSON body is accepted', async () => {
  const item = await api.get(`/api/v1/item/${real.name.replace(/\.jpg$/, '')}`);
  assert.equal(item.status, 404);
  const stored = await api.get('/api/v1/items');
  const itemId = stored.body.data.training[0].item_id;
  const imageId = (await api.get(`/api/v1/item/${itemId}`)).body.data.images[0].image_id;

  await refusedWithoutChange(() => api.request('POST', `/api/v1/image/${imageId}/annotation`, undefined, { raw: '{"annotations": [{"x_min": 1,' }), 400, /Invalid JSON/);
  await refusedWithoutChange(() => api.post(`/api/v1/image/${imageId}/annotation`, { annotations: [{ x_min: '1', x_max: 2, y_min: 1, y_max: 2 }] }), 400, /annotations\.0\.x_min must be number/);
  await refusedWithoutChange(() => api.post(`/api/v1/image/${imageId}/annotation`, { annotations: 'none' }), 400, /annotations must be array/);
  await refusedWithoutChange(() => api.post('/api/v1/train', { algorithm_id: 'PM', name: 42 }), 400, /name must be string/);
  const inJapanese = await api.withLanguage('ja').post('/api/v1/train', { algorithm_id: 'PM', name: 42 });
  assert.deepEqual(inJapanese.body.errors.detail, ['name は string でなければなりません']);
  const missing = await api.post('/api/v1/serve', {});
  assert.deepEqual(missing.body.errors.detail, ['item_ids is required']);
  const wrongJson = await api.withLanguage('ja').request('POST', '/api/v1/serve', undefined, { raw: '{' });
  assert.deepEqual([wrongJson.body.errors.title, wrongJson.body.errors.detail], ['JSONが不正です', 'リクエストの本文が正しい JSON ではありません']);
  await refusedWithoutChange(() => api.post('/api/v1/serve', { item_ids: itemId }), 400, /item_ids must be array/);

  const doubleEncoded = JSON.stringify(JSON.stringify({ annotations: [{ x_min: 10, x_max: 20, y_min: 30, y_max: 40, notes: 'double' }] }));
  const accepted = await api.request('POST', `/api/v1/image/${imageId}/annotation`, undefined, { raw: doubleEncoded });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  const annotated = await api.get(`/api/v1/item/${itemId}`);
  assert.equal(annotated.body.data.images[0].annotations[0].notes, 'double');
});

test('a file over the size limit: 413, nothing stored', async () => {
  const limited = await startTestServer({ limits: { maxFileBytes: 100_000 } });
  try {
    const small = await new Api(limited.url).login('alice', 'alice-secret');
    const before = folderSnapshot(join(limited.dataDir, 'images'));
    const answer = await small.upload([real], { training: 'true' });
    assert.equal(answer.status, 413, JSON.stringify(answer.body));
    assert.equal(answer.body.errors.title, 'File too large');
    assert.deepEqual(folderSnapshot(join(limited.dataDir, 'images')), before);
    assert.deepEqual(folderSnapshot(join(limited.dataDir, 'tmp')), []);
  } finally {
    await limited.dispose();
  }
});
