import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Api, cookie, startTestServer, type TestServer } from './helpers.ts';

let server: TestServer;
let api: Api;

before(async () => {
  server = await startTestServer();
  api = await new Api(server.url).login('alice', 'alice-secret');
});
after(() => server.dispose());

const image = cookie('train/good', 0);

test('a 200-character item id is uploaded, read, reviewed and deleted (beyond Fastify\'s 100-character default)', async () => {
  const id = `long-${'x'.repeat(190)}-id.a`;
  assert.equal(id.length, 200);
  const upload = await api.upload([{ name: `${id}.jpg`, bytes: image.bytes }], { training: 'true', good: 'true' });
  assert.equal(upload.status, 200, JSON.stringify(upload.body));
  assert.deepEqual(upload.body.data.item_ids, [id]);
  const detail = await api.get(`/api/v1/item/${id}`);
  assert.equal(detail.status, 200, JSON.stringify(detail.body));
  assert.equal(detail.body.data.item_id, id);
  const review = await api.request('PATCH', `/api/v1/item/${id}`, { good: false });
  assert.equal(review.status, 200, JSON.stringify(review.body));
  assert.equal((await api.request('DELETE', `/api/v1/item/${id}`)).status, 200);
  assert.equal((await api.get(`/api/v1/item/${id}`)).status, 404);
});

test('the longest accepted id (255 characters) is served too, also as item_id for several files', async () => {
  const id = 'y'.repeat(255);
  const upload = await api.upload([image, cookie('train/good', 1)], { training: 'true', good: 'true', item_id: id });
  assert.equal(upload.status, 200, JSON.stringify(upload.body));
  const detail = await api.get(`/api/v1/item/${id}`);
  assert.equal(detail.status, 200, JSON.stringify(detail.body));
  assert.equal(detail.body.data.item_id, id);
});

test('an id the item routes could not serve is refused at upload, in English and Japanese, and nothing is stored', async () => {
  const tooLong = 'z'.repeat(256);
  const itemCount = async () => { const { data } = (await api.get('/api/v1/items')).body; return data.training.length + data.predict.length; };
  const before = await itemCount();
  assert.ok(before >= 1);
  const english = await api.upload([{ name: `${tooLong}.jpg`, bytes: image.bytes }], { training: 'true' });
  assert.equal(english.status, 400);
  assert.deepEqual(english.body.errors.detail, [`Invalid filename ${tooLong}.jpg: the name without its extension is longer than 255 characters`]);
  const japanese = await api.withLanguage('ja').upload([image], { training: 'true', item_id: tooLong });
  assert.equal(japanese.status, 400);
  assert.match(JSON.stringify(japanese.body.errors), /拡張子を除いた名前が 255 文字を超えています/);
  assert.equal(await itemCount(), before);
});
