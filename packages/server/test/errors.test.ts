import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ALGORITHMS } from '@kensa/engine';
import { createClient, issueLicense } from '../src/index.ts';
import { en } from '../src/i18n/en.ts';
import { ja } from '../src/i18n/ja.ts';
import { Api, cookie, parameterId, startTestServer, type Answer, type TestServer } from './helpers.ts';

/** Every error row of the contract, asked in English and in Japanese. */
let server: TestServer;
let alice: Api;
let bob: Api;
let unlicensed: Api;
let aliceImageId: number;
let aliceModelId: number;

before(async () => {
  server = await startTestServer();
  alice = await new Api(server.url).login('alice', 'alice-secret');
  bob = await new Api(server.url).login('bob', 'bob-secret');
  await createClient({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'carol', clientSecret: 'carol-secret' });
  unlicensed = await new Api(server.url).login('carol', 'carol-secret');
  const uploaded = await alice.upload([0, 1, 2].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const item = await alice.get(`/api/v1/item/${uploaded.body.data.item_ids[0]}`);
  aliceImageId = item.body.data.images[0].image_id;
  const workingSize = await parameterId(alice, 'PM', 'working_size');
  const model = await alice.post('/api/v1/train', { algorithm_id: 'PM', name: 'm', override_params: [{ algorithm_parameter_id: workingSize, value: 64 }] });
  aliceModelId = model.body.data.model_id;
  await alice.waitForModel(aliceModelId);
});
after(() => server.dispose());

function licenseForm(text: string): FormData {
  const form = new FormData();
  form.append('license', new Blob([text]), 'kensa.license');
  return form;
}

/** Runs a scenario in both languages and checks status, title (from each catalogue) and the envelope. */
async function expectError(
  scenario: (api: (who: Api) => Api) => Promise<Answer>, status: number, title: keyof typeof en, detail?: (d: unknown, language: 'en' | 'ja') => void,
) {
  for (const language of ['en', 'ja'] as const) {
    const answer = await scenario((who) => who.withLanguage(language));
    assert.equal(answer.status, status, `${language}: ${JSON.stringify(answer.body)}`);
    const errors = answer.body.errors;
    assert.equal(errors.status, status);
    assert.equal(errors.title, (language === 'en' ? en : ja)[title], `${language} title`);
    assert.equal(typeof errors.source.pointer, 'string');
    assert.ok(errors.source.pointer.startsWith('/api/'));
    detail?.(errors.detail, language);
  }
}

test('the titles of the original are exactly its English texts', () => {
  assert.equal(en.unauthorized, 'No permission to access this resource');
  assert.equal(en.itemNotFound, 'No match for item_id!');
  assert.equal(en.itemOfAnotherClient, 'No permission to view item!');
  assert.equal(en.invalidLicense, 'Invalid license!');
  assert.equal(en.licenseAlreadyExists, 'License already exists');
  assert.equal(en.itemAccessDenied, 'You do not have access to one or more item ids provided');
});

test('POST /auth/token: unknown client, wrong secret', async () => {
  const anonymous = new Api(server.url);
  await expectError((as) => as(anonymous).post('/api/auth/token', { client_id: 'nobody', client_secret: 'x', grant_type: 'client_credentials' }), 401, 'unknownClient');
  await expectError((as) => as(anonymous).post('/api/auth/token', { client_id: 'alice', client_secret: 'wrong', grant_type: 'client_credentials' }), 401, 'secretMismatch');
});

test('every /v1 route without a valid token: 401', async () => {
  const anonymous = new Api(server.url);
  const forged = new Api(server.url);
  forged.token = `${alice.token!.slice(0, -4)}AAAA`;
  for (const [method, path] of [['GET', '/api/v1/items'], ['GET', '/api/v1/models'], ['GET', '/api/v1/algorithms'], ['POST', '/api/v1/train'], ['GET', '/api/v1/workers'], ['GET', `/api/v1/images/${aliceImageId}/raw`]]) {
    await expectError((as) => as(anonymous).request(method, path), 401, 'unauthorized');
    await expectError((as) => as(forged).request(method, path), 401, 'unauthorized');
  }
});

test('POST /license: bad signature, expired, another client, already exists', async () => {
  const good = await issueLicense({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'alice', days: 10 });
  const tampered = good.replace(/"expires_at": "(\d{4})/, (_, year) => `"expires_at": "${Number(year) + 50}`);
  assert.notEqual(tampered, good);
  await expectError((as) => as(alice).request('POST', '/api/v1/license', undefined, { form: licenseForm(tampered) }), 403, 'invalidLicense',
    (d, l) => assert.equal(d, l === 'en' ? en.licenseBadSignature : ja.licenseBadSignature));
  const expired = await issueLicense({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'alice', days: 0.00001 });
  await new Promise((r) => setTimeout(r, 1100));
  await expectError((as) => as(alice).request('POST', '/api/v1/license', undefined, { form: licenseForm(expired) }), 403, 'invalidLicense');
  const bobs = await issueLicense({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'bob', days: 10 });
  await expectError((as) => as(alice).request('POST', '/api/v1/license', undefined, { form: licenseForm(bobs) }), 403, 'invalidLicense');
  await expectError((as) => as(alice).request('POST', '/api/v1/license', undefined, { form: licenseForm('not a license') }), 403, 'invalidLicense');
  assert.equal((await alice.request('POST', '/api/v1/license', undefined, { form: licenseForm(good) })).status, 200);
  await expectError((as) => as(alice).request('POST', '/api/v1/license', undefined, { form: licenseForm(good) }), 403, 'invalidLicense',
    (d, l) => assert.equal(d, l === 'en' ? 'License already exists' : ja.licenseAlreadyExists));
});

test('train and serve without an active license: 403 "Invalid license!" (the original\'s title), the reason as detail', async () => {
  const noLicense = (d: unknown, l: 'en' | 'ja') => assert.equal(d, (l === 'en' ? en : ja).noActiveLicense);
  await expectError((as) => as(unlicensed).post('/api/v1/train', { algorithm_id: 'PM', name: 'x' }), 403, 'invalidLicense', noLicense);
  await expectError((as) => as(unlicensed).post('/api/v1/serve', { item_ids: ['a'] }), 403, 'invalidLicense', noLicense);
});

test('GET /item: unknown id 404, another client\'s item 401', async () => {
  await expectError((as) => as(alice).get('/api/v1/item/does-not-exist'), 404, 'itemNotFound',
    (d) => assert.equal(d, null));
  const aliceItems = await alice.get('/api/v1/items');
  const aliceItemId = aliceItems.body.data.training[0].item_id;
  await expectError((as) => as(bob).get(`/api/v1/item/${aliceItemId}`), 401, 'itemOfAnotherClient');
});

test('POST /upload: invalid file name or content, no images', async () => {
  await expectError((as) => as(alice).upload([{ name: 'bad name!.png', bytes: cookie('train/good', 5).bytes }], { training: 'true' }), 400, 'invalidRequest',
    (d, l) => {
      assert.ok(Array.isArray(d));
      assert.ok((d as string[])[0].startsWith(l === 'en' ? 'Invalid filename bad name!.png' : '不正なファイル名 bad name!.png'), String(d));
    });
  await expectError((as) => as(alice).upload([{ name: 'text.png', bytes: Buffer.from('hello, I am text') }], { training: 'true' }), 400, 'invalidRequest');
  const onlyFields = new FormData();
  onlyFields.append('training', 'true');
  await expectError((as) => as(alice).request('POST', '/api/v1/upload', undefined, { form: onlyFields }), 400, 'noImagesToUpload');
});

test('POST /image/{id}/annotation: unknown image 400 (as the original); box outside or inverted 400', async () => {
  await expectError((as) => as(alice).post('/api/v1/image/999999/annotation', { annotations: [] }), 400, 'imageNotFound');
  await expectError((as) => as(bob).post(`/api/v1/image/${aliceImageId}/annotation`, { annotations: [] }), 400, 'imageNotFound');
  await expectError((as) => as(alice).post(`/api/v1/image/${aliceImageId}/annotation`, { annotations: [{ x_min: 0, x_max: 5000, y_min: 0, y_max: 10 }] }), 400, 'invalidAnnotation',
    (d, l) => assert.deepEqual(d, [l === 'en' ? 'Annotation 0 lies outside the image (576×768)' : 'アノテーション 0 が画像（576×768）の外にあります']));
  await expectError((as) => as(alice).post(`/api/v1/image/${aliceImageId}/annotation`, { annotations: [{ x_min: 50, x_max: 10, y_min: 0, y_max: 10 }] }), 400, 'invalidAnnotation');
});

test('GET /algorithms with no algorithm: 404', async () => {
  const saved = ALGORITHMS.splice(0, ALGORITHMS.length);
  try {
    await expectError((as) => as(alice).get('/api/v1/algorithms'), 404, 'noAlgorithms');
  } finally {
    ALGORITHMS.push(...saved);
  }
  assert.equal((await alice.get('/api/v1/algorithms')).status, 200);
});

test('DELETE /model: unknown or another client\'s models 404 (the original\'s empty title, "No model found"), nothing deleted', async () => {
  const noModel = (d: unknown, l: 'en' | 'ja') => assert.equal(d, (l === 'en' ? en : ja).noModelFound);
  await expectError((as) => as(alice).request('DELETE', '/api/v1/model', { model_ids: [aliceModelId, 987654] }), 404, 'untitled', noModel);
  await expectError((as) => as(bob).request('DELETE', '/api/v1/model', { model_ids: [aliceModelId] }), 404, 'untitled', noModel);
  await expectError((as) => as(alice).request('DELETE', '/api/v1/model', { model_ids: ['no-such-model'] }), 404, 'untitled', noModel);
  assert.equal((await alice.get('/api/v1/models')).body.data.length, 1);
});

test('POST /train: items of another client 403; malformed parameters 400 naming each', async () => {
  const aliceItems = await alice.get('/api/v1/items');
  await expectError((as) => as(bob).post('/api/v1/train', { algorithm_id: 'PM', name: 'x', item_ids: [aliceItems.body.data.training[0].item_id] }), 403, 'itemAccessDenied');
  const workingSize = await parameterId(alice, 'PM', 'working_size');
  await expectError((as) => as(alice).post('/api/v1/train', {
    algorithm_id: 'PM', name: 'x', override_params: [{ algorithm_parameter_id: workingSize, value: 'huge' }, { algorithm_parameter_id: 424242, value: '1' }],
  }), 400, 'invalidParameters', (d, l) => {
    const details = d as string[];
    assert.equal(details.length, 2);
    assert.ok(details[0].includes('working_size') && details[0].includes(String(workingSize)), details[0]);
    assert.ok(details[1].includes('424242'), details[1]);
    assert.equal(details[0], l === 'en'
      ? `Parameter working_size (algorithm_parameter_id ${workingSize}): must be a number`
      : `パラメータ working_size（algorithm_parameter_id ${workingSize}）が不正です: 数値でなければなりません`);
  });
  await expectError((as) => as(alice).post('/api/v1/train', { algorithm_id: 'NOPE', name: 'x' }), 400, 'unknownAlgorithm');
  assert.equal((await alice.get('/api/v1/models')).body.data.length, 1, 'no model was created');
});

test('POST /serve: unknown items 404; no available model 400', async () => {
  await expectError((as) => as(alice).post('/api/v1/serve', { item_ids: ['no-such-item'] }), 404, 'itemsNotFound');
  const bobUpload = await bob.upload([cookie('test/good', 1)], { training: 'false' });
  await expectError((as) => as(bob).post('/api/v1/serve', { item_ids: bobUpload.body.data.item_ids }), 400, 'noAvailableModel');
  await expectError((as) => as(bob).post('/api/v1/serve', { item_ids: bobUpload.body.data.item_ids, model_id: aliceModelId }), 400, 'noAvailableModel');
});

test('unknown routes and malformed JSON keep the envelope', async () => {
  await expectError((as) => as(alice).get('/api/nothing-here'), 404, 'routeNotFound');
  await expectError((as) => as(alice).request('POST', '/api/v1/serve', undefined, { raw: '{"item_ids": [' }), 400, 'invalidJson');
});

test('license limits: a license allowing no models refuses train with 403 naming the limit', async () => {
  await createClient({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'dave', clientSecret: 'dave-secret' });
  const dave = await new Api(server.url).login('dave', 'dave-secret');
  const limited = await issueLicense({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'dave', days: 30, limits: { max_models: 0 } });
  assert.equal((await dave.request('POST', '/api/v1/license', undefined, { form: licenseForm(limited) })).status, 200);
  await expectError((as) => as(dave).post('/api/v1/train', { algorithm_id: 'PM', name: 'x' }), 403, 'licenseLimitReached',
    (d, l) => assert.equal(d, l === 'en' ? 'The license allows at most 0 models' : 'このライセンスで作成できるモデルは最大 0 個です'));
});

test('repeated failed logins are slowed down', async () => {
  const anonymous = new Api(server.url);
  const attempt = () => anonymous.timedFailedLogin('bob');
  const first = await attempt();
  for (let i = 0; i < 6; i++) await attempt();
  const later = await attempt();
  assert.ok(later >= 350 && later > first, `8th failure took ${later.toFixed(0)} ms, the first ${first.toFixed(0)} ms`);
  // The right secret still works (and resets the count).
  await new Api(server.url).login('bob', 'bob-secret');
});

test('license limits: predictions a month are counted per image', async () => {
  await createClient({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'erin', clientSecret: 'erin-secret' });
  const erin = await new Api(server.url).login('erin', 'erin-secret');
  const license = await issueLicense({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'erin', days: 30, limits: { max_predictions_per_month: 1 } });
  assert.equal((await erin.request('POST', '/api/v1/license', undefined, { form: licenseForm(license) })).status, 200);
  await erin.upload([0, 1, 2].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(erin, 'PM', 'working_size');
  const model = await erin.post('/api/v1/train', { algorithm_id: 'PM', name: 'm', override_params: [{ algorithm_parameter_id: workingSize, value: 64 }] });
  await erin.waitForModel(model.body.data.model_id);
  const predict = await erin.upload([cookie('test/good', 3), cookie('test/good', 4)], { training: 'false' });
  const [first, second] = predict.body.data.item_ids;
  await expectError((as) => as(erin).post('/api/v1/serve', { item_ids: [first, second] }), 403, 'licenseLimitReached');
  assert.equal((await erin.post('/api/v1/serve', { item_ids: [first] })).status, 200);
  await erin.waitForItems([first]);
  await expectError((as) => as(erin).post('/api/v1/serve', { item_ids: [second] }), 403, 'licenseLimitReached');
});
