import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient, issueLicense } from '../src/index.ts';
import { en } from '../src/i18n/en.ts';
import { ja } from '../src/i18n/ja.ts';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

/** GET /api/v1/license (beyond the contract): the state the web UI's badge and the SDK's getLicense() show. */
let server: TestServer;
let alice: Api;

before(async () => {
  server = await startTestServer();
  alice = await new Api(server.url).login('alice', 'alice-secret');
});
after(() => server.dispose());

function licenseForm(text: string): FormData {
  const form = new FormData();
  form.append('license', new Blob([text]), 'kensa.license');
  return form;
}

test('a client without a license: missing; after activating one: active with its limits; once it ends: expired', async () => {
  await createClient({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'frank', clientSecret: 'frank-secret' });
  const frank = await new Api(server.url).login('frank', 'frank-secret');
  const missing = await frank.get('/api/v1/license');
  assert.equal(missing.status, 200, JSON.stringify(missing.body));
  assert.deepEqual(missing.body.data, { status: 'missing', client_id: 'frank', expires_at: null, limits: null, usage: { models: 0, predictions_this_month: 0 } });

  // A license of about three seconds: long enough to activate and read, short enough to wait out.
  const text = await issueLicense({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'frank', days: 3 / 86_400, limits: { max_models: 2 } });
  assert.equal((await frank.request('POST', '/api/v1/license', undefined, { form: licenseForm(text) })).status, 200);
  const expiresAt = JSON.parse(text).expires_at as string;
  const active = (await frank.get('/api/v1/license')).body.data;
  assert.deepEqual(active, {
    status: 'active', client_id: 'frank', expires_at: expiresAt, limits: { max_models: 2, max_predictions_per_month: null },
    usage: { models: 0, predictions_this_month: 0 },
  });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now()) + 300));
  const expired = (await frank.get('/api/v1/license')).body.data;
  assert.equal(expired.status, 'expired');
  assert.equal(expired.expires_at, expiresAt);
  assert.deepEqual(expired.limits, { max_models: 2, max_predictions_per_month: null });
  // The expired state is the one training refuses with: the two agree.
  assert.equal((await frank.post('/api/v1/train', { algorithm_id: 'PM', name: 'x' })).status, 403);
});

test('usage counts the models kept and the images predicted this month, as the limits count them', async () => {
  const state = (await alice.get('/api/v1/license')).body.data;
  assert.equal(state.status, 'active');
  assert.deepEqual(state.limits, { max_models: null, max_predictions_per_month: null });
  assert.ok(Date.parse(state.expires_at) > Date.now());
  assert.deepEqual(state.usage, { models: 0, predictions_this_month: 0 });

  await alice.upload([0, 1].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(alice, 'PM', 'working_size');
  const model = await alice.post('/api/v1/train', { algorithm_id: 'PM', name: 'm', override_params: [{ algorithm_parameter_id: workingSize, value: 64 }] });
  await alice.waitForModel(model.body.data.model_id);
  const predicted = await alice.upload([cookie('test/good', 0), cookie('test/defect', 0)], { training: 'false' });
  const itemIds = predicted.body.data.item_ids as string[];
  assert.equal((await alice.post('/api/v1/serve', { item_ids: itemIds })).status, 200);
  await alice.waitForItems(itemIds);
  assert.deepEqual((await alice.get('/api/v1/license')).body.data.usage, { models: 1, predictions_this_month: 2 });
});

test('without a valid token: 401 with the catalogue title, in English and Japanese', async () => {
  for (const language of ['en', 'ja'] as const) {
    const anonymous = new Api(server.url, language);
    for (const token of [null, 'not-a-token']) {
      anonymous.token = token;
      const answer = await anonymous.get('/api/v1/license');
      assert.equal(answer.status, 401, `${language}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.errors.title, (language === 'en' ? en : ja).unauthorized);
      assert.equal(answer.body.errors.source.pointer, '/api/v1/license');
    }
  }
});
