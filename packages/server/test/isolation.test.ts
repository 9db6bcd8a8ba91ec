import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

let server: TestServer;
let alice: Api;
let bob: Api;

before(async () => {
  server = await startTestServer();
  alice = await new Api(server.url).login('alice', 'alice-secret');
  bob = await new Api(server.url).login('bob', 'bob-secret');
});
after(() => server.dispose());

test('two clients: neither can read or touch the other\'s data', async () => {
  const shared = cookie('train/good', 0);
  const aliceUpload = await alice.upload([shared, cookie('train/good', 1), cookie('train/good', 2)], { training: 'true', good: 'true' });
  const [aliceItemId] = aliceUpload.body.data.item_ids;
  const aliceItem = await alice.get(`/api/v1/item/${aliceItemId}`);
  const aliceImage = aliceItem.body.data.images[0];
  const workingSize = await parameterId(alice, 'PM', 'working_size');
  const trained = await alice.post('/api/v1/train', { algorithm_id: 'PM', name: 'alice-model', override_params: [{ algorithm_parameter_id: workingSize, value: 64 }] });
  const aliceModelId = trained.body.data.model_id;
  await alice.waitForModel(aliceModelId);

  // Bob sees none of it.
  const bobItems = await bob.get('/api/v1/items');
  assert.deepEqual([bobItems.body.data.training, bobItems.body.data.predict, bobItems.body.data.archived], [[], [], []]);
  assert.deepEqual((await bob.get('/api/v1/models')).body.data, []);
  assert.equal((await bob.get(`/api/v1/item/${aliceItemId}`)).status, 401);
  assert.equal((await bob.get(`/api/v1/images/${aliceImage.image_id}/raw`)).status, 404);
  assert.equal((await bob.post(`/api/v1/image/${aliceImage.image_id}/annotation`, { annotations: [{ x_min: 1, x_max: 2, y_min: 1, y_max: 2 }] })).status, 400, 'as an unknown image (the original answered 400)');
  assert.equal((await bob.post('/api/v1/train', { algorithm_id: 'PM', name: 'steal', item_ids: [aliceItemId] })).status, 403);
  assert.equal((await bob.post('/api/v1/serve', { item_ids: [aliceItemId] })).status, 404);
  assert.equal((await bob.post('/api/v1/serve', { item_ids: [aliceItemId], model_id: aliceModelId })).status, 404);
  assert.equal((await bob.request('DELETE', '/api/v1/model', { model_ids: [aliceModelId] })).status, 404);

  // The same file name makes a separate item for Bob; annotating his does not touch Alice's.
  const bobUpload = await bob.upload([shared], { training: 'true', good: 'false' });
  assert.deepEqual(bobUpload.body.data.item_ids, [aliceItemId]);
  const bobItem = await bob.get(`/api/v1/item/${aliceItemId}`);
  assert.notEqual(bobItem.body.data.images[0].image_id, aliceImage.image_id);
  assert.equal(bobItem.body.data.good, false);
  await bob.post(`/api/v1/image/${bobItem.body.data.images[0].image_id}/annotation`, { annotations: [{ x_min: 1, x_max: 20, y_min: 1, y_max: 20 }] });

  // Alice's data is as she left it.
  const aliceAfter = await alice.get(`/api/v1/item/${aliceItemId}`);
  assert.equal(aliceAfter.body.data.good, true);
  assert.deepEqual(aliceAfter.body.data.images[0].annotations, []);
  assert.equal((await alice.get('/api/v1/models')).body.data[0].status, 'active');
  // A media token of one client opens only that client's images.
  const bobRawWithAliceToken = bobItem.body.data.images[0].raw_url.replace(/token=.*$/, 'token=' + aliceAfter.body.data.images[0].raw_url.split('token=')[1]);
  const crossed = await fetch(bobRawWithAliceToken);
  assert.equal(crossed.status, 404, `${bobRawWithAliceToken} ${await crossed.text()}`);
});
