import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
let server: TestServer;
let api: Api;

before(async () => {
  server = await startTestServer();
  api = await new Api(server.url).login('alice', 'alice-secret');
});
after(() => server.dispose());

async function fetchBytes(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, type: response.headers.get('content-type'), bytes: new Uint8Array(await response.arrayBuffer()) };
}

test('the whole life of the original: token → license → upload → annotate → train → serve → results → delete', async () => {
  assert.deepEqual((await api.get('/api/auth/app_version')).body, { data: '1.0.0' });
  const token = await api.post('/api/auth/token', { client_id: 'alice', client_secret: 'alice-secret', grant_type: 'client_credentials' });
  assert.equal(token.body.data.expires, 2592000);

  // A license issued by this installation for this client is accepted (alice already has one from bootstrap: a second is fine).
  const { issueLicense } = await import('../src/index.ts');
  const license = await issueLicense({ dataDir: server.dataDir, databaseUrl: server.databaseUrl, clientId: 'alice', days: 30, limits: { max_models: 10 } });
  const form = new FormData();
  form.append('license', new Blob([license]), 'kensa.license');
  const activated = await api.request('POST', '/api/v1/license', undefined, { form });
  assert.deepEqual(activated.body, { data: { status: 'ok' } });

  const ok = [0, 1, 2, 3].map((i) => cookie('train/good', i));
  const ng = [0, 1].map((i) => cookie('test/defect', i));
  const uploadedOk = await api.upload(ok, { training: 'true', good: 'true' });
  assert.equal(uploadedOk.status, 200, JSON.stringify(uploadedOk.body));
  assert.deepEqual(uploadedOk.body.data.item_ids, ok.map((f) => f.name.replace(/\.[^.]+$/, '')));
  const uploadedNg = await api.upload(ng, { training: 'true', good: 'false' });
  assert.equal(uploadedNg.status, 200);

  // Uploading the same name and bytes again adds nothing.
  await api.upload([ok[0]], { training: 'true', good: 'true' });
  const items = await api.get('/api/v1/items');
  assert.equal(items.body.data.training.length, 6);
  assert.equal(items.body.data.summary.training_stats.OK_count, 4);
  assert.equal(items.body.data.summary.training_stats.NG_count, 2);

  // Annotate the first NG image.
  const ngItemId = uploadedNg.body.data.item_ids[0];
  const ngItem = await api.get(`/api/v1/item/${ngItemId}`);
  const image = ngItem.body.data.images[0];
  assert.equal(image.width, 576);
  assert.equal(image.height, 768);
  const annotated = await api.post(`/api/v1/image/${image.image_id}/annotation`, {
    annotations: [{ x_min: 100, x_max: 200, y_min: 300, y_max: 420, notes: 'crack' }],
  });
  assert.deepEqual(annotated.body, { data: { status: 'ok' } });
  const withBoxes = await api.get(`/api/v1/item/${ngItemId}?show_annotations=true`);
  assert.deepEqual(
    withBoxes.body.data.images[0].annotations.map((a: any) => [a.x_min, a.x_max, a.y_min, a.y_max, a.notes]),
    [[100, 200, 300, 420, 'crack']],
  );

  const algorithms = await api.get('/api/v1/algorithms');
  const pm = algorithms.body.data.find((a: any) => a.algorithm_id === 'PM');
  assert.ok(pm, 'PM is listed');
  assert.ok(pm.parameters.every((p: any) => Number.isInteger(p.algorithm_parameter_id) && typeof p.range === 'string'));

  const workingSize = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', {
    algorithm_id: 'PM', name: 'cookies-pm', override_params: [{ algorithm_parameter_id: workingSize, value: '96' }],
  });
  assert.equal(trained.status, 200, JSON.stringify(trained.body));
  assert.equal(trained.body.data.status, 'creating');
  assert.equal(trained.body.data.ok_img_count, 4);
  assert.equal(trained.body.data.ng_img_count, 2);
  const model = await api.waitForModel(trained.body.data.model_id);
  assert.equal(model.status, 'active', model.status_text);
  assert.equal(model.active, true);
  assert.equal(model.progress, 1);
  assert.equal(model.parameters.find((p: any) => p.name === 'working_size').value, '96');
  assert.equal(typeof model.stats.precision.projected, 'number');
  const inJapanese = await api.withLanguage('ja').get('/api/v1/models');
  assert.equal(inJapanese.body.data[0].status_text, '学習完了');

  const predictGood = cookie('test/good', 0);
  const predictDefect = cookie('test/defect', 5);
  const uploadedPredict = await api.upload([predictGood, predictDefect], { training: 'false' });
  const predictIds: string[] = uploadedPredict.body.data.item_ids;
  const served = await api.post('/api/v1/serve', { item_ids: predictIds });
  assert.equal(served.status, 200, JSON.stringify(served.body));
  assert.equal(served.body.data.model_version, model.version);
  await api.waitForItems(predictIds);

  const detail = await api.get(`/api/v1/item/${predictIds[1]}`);
  const data = detail.body.data;
  assert.equal(data.status, 'done');
  assert.equal(typeof data.computed_assessment.good, 'boolean');
  assert.match(data.computed_assessment.assessment_result, /^\[PM\] (Good|Defected) product$/);
  assert.equal(data.models.length, 1);
  const assessment = data.models[0].assessments[0];
  assert.equal(assessment.model_id, model.model_id);
  assert.ok(assessment.computed.detection_accuracy >= 0 && assessment.computed.detection_accuracy <= 100);
  assert.equal(assessment.computed.detected_objects, assessment.annotations.length);
  for (const box of assessment.annotations) {
    assert.ok(box.x_min < box.x_max && box.y_min < box.y_max && box.x_max <= 576 && box.y_max <= 768, JSON.stringify(box));
    assert.equal(typeof box.score, 'number');
  }
  const predictedImage = data.images[0];
  assert.equal(predictedImage.processed, true);
  for (const url of [predictedImage.url, predictedImage.heatmap_url]) {
    const png = await fetchBytes(url);
    assert.equal(png.status, 200);
    assert.equal(png.type, 'image/png');
    assert.deepEqual([...png.bytes.subarray(0, 4)], PNG_MAGIC);
  }
  const raw = await fetchBytes(predictedImage.raw_url);
  assert.deepEqual(Buffer.from(raw.bytes), predictDefect.bytes);
  const thumbnail = await fetchBytes(predictedImage.thumbnail_url);
  assert.equal(thumbnail.type, 'image/jpeg');
  // The bearer token works as well as the signed query token; neither → 401.
  const bare = predictedImage.raw_url.replace(/\?token=.*$/, '');
  assert.equal((await fetchBytes(bare, { authorization: `Bearer ${api.token}` })).status, 200);
  assert.equal((await fetchBytes(bare)).status, 401);
  assert.equal((await fetchBytes(`${bare}?token=forged.token`)).status, 401);

  const list = await api.get('/api/v1/items');
  const stats = list.body.data.summary.predict_stats[0];
  assert.equal(stats.model_id, model.model_id);
  assert.equal(stats.done_count, 2);
  assert.equal(stats.OK_count + stats.NG_count, 2);
  assert.deepEqual(await api.get('/api/v1/workers').then((r) => r.body.data), { training: [], predicting: [] });

  const deleted = await api.request('DELETE', '/api/v1/model', { model_ids: [model.model_id] });
  assert.deepEqual(deleted.body, { data: { status: 'ok' } });
  assert.deepEqual((await api.get('/api/v1/models')).body.data, []);
  assert.equal((await fetchBytes(predictedImage.url)).status, 404);
  const afterDelete = await api.get(`/api/v1/item/${predictIds[1]}`);
  assert.deepEqual(afterDelete.body.data.models, []);
});

test('OpenAPI document and readable docs', async () => {
  const document = await api.get('/api/openapi.json');
  assert.equal(document.status, 200);
  assert.match(document.body.openapi, /^3\./);
  for (const path of ['/api/auth/token', '/api/v1/items', '/api/v1/item/{item_id}', '/api/v1/upload', '/api/v1/train', '/api/v1/serve', '/api/v1/model', '/api/v1/workers', '/api/v1/license', '/api/v1/algorithms']) {
    assert.ok(document.body.paths[path], `${path} documented`);
  }
  const docs = await fetch(`${server.url}/api/docs/`);
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger/i);
});
