import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Api, cookie, folderSnapshot, parameterId, startTestServer, type TestServer } from './helpers.ts';

/** Routes beyond the original: review, model detail, export/import, synchronous inspection. */
let server: TestServer;
let other: TestServer;
let api: Api;
let modelId: number;

before(async () => {
  // Its callback receiver listens on this machine.
  server = await startTestServer({ allowPrivateTargets: true });
  other = await startTestServer();
  api = await new Api(server.url).login('alice', 'alice-secret');
  await api.upload([0, 1, 2, 3].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'portable', override_params: [{ algorithm_parameter_id: workingSize, value: 96 }] });
  modelId = trained.body.data.model_id;
  assert.equal((await api.waitForModel(modelId)).status, 'active');
});
after(async () => {
  await server.dispose();
  await other.dispose();
});

test('GET /models/{id}; review confirms or overrides a verdict and feeds computed precision/recall', async () => {
  const detail = await api.get(`/api/v1/models/${modelId}`);
  assert.equal(detail.body.data.model_id, modelId);
  assert.equal(typeof detail.body.data.evaluation.threshold, 'number');
  assert.equal((await api.get('/api/v1/models/999')).status, 404);

  const uploaded = await api.upload([cookie('test/defect', 3)], { training: 'false' });
  const [itemId] = uploaded.body.data.item_ids;
  await api.post('/api/v1/serve', { item_ids: [itemId] });
  await api.waitForItems([itemId]);
  const computed = (await api.get(`/api/v1/item/${itemId}`)).body.data.computed_assessment.good;
  // The person says the opposite of the model: an override.
  const reviewed = await api.request('PATCH', `/api/v1/item/${itemId}`, { good: !computed });
  assert.equal(reviewed.status, 200, JSON.stringify(reviewed.body));
  assert.equal(reviewed.body.data.confirmed_assessment, true);
  assert.equal(reviewed.body.data.override_assessment, true);
  assert.equal(reviewed.body.data.good, !computed);
  const model = (await api.get(`/api/v1/models/${modelId}`)).body.data;
  // One confirmed item the model got wrong: if it said NG, precision is 0; if it said OK, recall is 0.
  if (computed === false) assert.equal(model.stats.precision.computed, 0);
  else assert.equal(model.stats.recall.computed, 0);
  const summary = (await api.get('/api/v1/items')).body.data.summary.predict_stats[0];
  assert.deepEqual([summary.confirmed_count, summary.adjusted_count, summary.accuracy], [1, 1, 0]);
});

test('export → import on another installation → synchronous inspection there, storing nothing', async () => {
  const exported = await fetch(`${server.url}/api/v1/models/${modelId}/export`, { method: 'POST', headers: { authorization: `Bearer ${api.token}` } });
  assert.equal(exported.status, 200);
  assert.equal(exported.headers.get('content-type'), 'application/octet-stream');
  const bytes = new Uint8Array(await exported.arrayBuffer());
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), 'KENSAMDL');

  const remote = await new Api(other.url).login('bob', 'bob-secret');
  const form = new FormData();
  form.append('model', new Blob([bytes]), 'portable.kensa-model');
  form.append('trust', 'true'); // signed by the first installation, not this one
  const imported = await remote.request('POST', '/api/v1/models/import', undefined, { form });
  assert.equal(imported.status, 200, JSON.stringify(imported.body));
  assert.equal(imported.body.data.status, 'active');
  assert.equal(imported.body.data.algorithm_id, 'PM');

  const corrupt = new FormData();
  const broken = bytes.slice();
  broken[broken.length - 300] ^= 0xff;
  corrupt.append('model', new Blob([broken]), 'broken.kensa-model');
  corrupt.append('trust', 'true');
  const refused = await remote.request('POST', '/api/v1/models/import', undefined, { form: corrupt });
  assert.equal(refused.status, 400);
  assert.match(refused.body.errors.detail, /changed after it was exported/);

  const inspectForm = new FormData();
  const good = cookie('test/good', 2);
  const defect = cookie('test/defect', 7);
  inspectForm.append('files[0]', new Blob([good.bytes]), good.name);
  inspectForm.append('files[1]', new Blob([defect.bytes]), defect.name);
  const inspected = await remote.request('POST', '/api/v1/inspect', undefined, { form: inspectForm });
  assert.equal(inspected.status, 200, JSON.stringify(inspected.body));
  assert.equal(inspected.body.data.model_id, imported.body.data.model_id);
  assert.deepEqual(inspected.body.data.results.map((r: any) => r.file_name), [good.name, defect.name]);
  for (const result of inspected.body.data.results) {
    assert.equal(typeof result.good, 'boolean');
    assert.equal(result.label, result.good ? 'OK' : 'NG');
    assert.equal(result.detected_objects, result.boxes.length);
  }
  const items = (await remote.get('/api/v1/items')).body.data;
  assert.deepEqual([items.training, items.predict], [[], []], 'inspect stored nothing');
});

test('GET /items pages with limit and cursor, and filters by status', async () => {
  const all = (await api.get('/api/v1/items')).body.data;
  const ids = [...all.training, ...all.predict].map((i: any) => i.item_id).sort();
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: any = (await api.get(`/api/v1/items?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body.data;
    const pageItems = [...page.training, ...page.predict];
    assert.ok(pageItems.length <= 2);
    seen.push(...pageItems.map((i: any) => i.item_id));
    cursor = page.next_cursor;
  } while (cursor);
  assert.deepEqual(seen.sort(), ids);
  const done = (await api.get('/api/v1/items?status=done')).body.data;
  assert.ok([...done.training, ...done.predict].every((i: any) => i.status === 'done'));
  assert.equal((await api.get('/api/v1/items?limit=0')).status, 400);
});

test('archive an item, then delete it with its files', async () => {
  const uploaded = await api.upload([cookie('test/good', 5)], { training: 'false' });
  const [itemId] = uploaded.body.data.item_ids;
  const archived = await api.request('PATCH', `/api/v1/item/${itemId}`, { archived: true });
  assert.equal(archived.status, 200, JSON.stringify(archived.body));
  const lists = (await api.get('/api/v1/items')).body.data;
  assert.ok(lists.archived.some((i: any) => i.item_id === itemId));
  assert.ok(!lists.predict.some((i: any) => i.item_id === itemId));
  assert.equal((await api.request('PATCH', `/api/v1/item/${itemId}`, {})).status, 400);

  const rawUrl = archived.body.data.images[0].raw_url;
  assert.equal((await fetch(rawUrl)).status, 200);
  assert.deepEqual((await api.request('DELETE', `/api/v1/item/${itemId}`)).body, { data: { status: 'ok' } });
  assert.equal((await api.get(`/api/v1/item/${itemId}`)).status, 404);
  assert.equal((await fetch(rawUrl)).status, 404);
  assert.equal((await api.request('DELETE', `/api/v1/item/${itemId}`)).status, 404);
});

test('GET /events streams a model\'s progress to its client only, in the reader\'s language', async () => {
  const controller = new AbortController();
  const stream = await fetch(`${server.url}/api/v1/events`, { headers: { authorization: `Bearer ${api.token}`, 'accept-language': 'ja' }, signal: controller.signal });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type')!, /text\/event-stream/);
  const other = await new Api(server.url).login('bob', 'bob-secret');
  const bobStream = await fetch(`${server.url}/api/v1/events`, { headers: { authorization: `Bearer ${other.token}` }, signal: controller.signal });

  const workingSize = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'streamed', override_params: [{ algorithm_parameter_id: workingSize, value: 64 }] });
  const events: any[] = [];
  const reader = stream.body!.getReader();
  let buffer = '';
  while (!events.some((e) => e.model_id === trained.body.data.model_id && e.status === 'active')) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += new TextDecoder().decode(value);
    for (const block of buffer.split('\n\n').slice(0, -1)) {
      const data = block.split('\n').find((line) => line.startsWith('data: '));
      if (data) events.push(JSON.parse(data.slice(6)));
    }
    buffer = buffer.slice(buffer.lastIndexOf('\n\n') + 2);
  }
  const mine = events.filter((e) => e.type === 'model' && e.model_id === trained.body.data.model_id);
  assert.equal(mine[0].status, 'creating');
  assert.equal(mine.at(-1).status, 'active');
  assert.equal(mine.at(-1).status_text, '学習完了');

  // Bob's stream saw nothing of Alice's training.
  const bobReader = bobStream.body!.getReader();
  const first = new TextDecoder().decode((await bobReader.read()).value);
  const more = await Promise.race([bobReader.read().then((r) => new TextDecoder().decode(r.value)), new Promise<string>((r) => setTimeout(() => r(''), 300))]);
  assert.ok(!`${first}${more}`.includes('data:'), `${first}${more}`);
  controller.abort();
});

test('PATCH /models/{id} changes the threshold without retraining; training parameters are refused', async () => {
  const threshold = await parameterId(api, 'PM', 'threshold');
  const workingSize = await parameterId(api, 'PM', 'working_size');
  const refused = await api.request('PATCH', `/api/v1/models/${modelId}`, { override_params: [{ algorithm_parameter_id: workingSize, value: 128 }] });
  assert.equal(refused.status, 400);
  assert.match(refused.body.errors.detail[0], /working_size .*train a new model/);

  const defect = cookie('test/defect', 9);
  const inspectWith = async (value: number) => {
    const changed = await api.request('PATCH', `/api/v1/models/${modelId}`, { override_params: [{ algorithm_parameter_id: threshold, value }] });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    assert.equal(changed.body.data.parameters.find((p: any) => p.name === 'threshold').value, String(value));
    const form = new FormData();
    form.append('files[0]', new Blob([defect.bytes]), defect.name);
    form.append('model_id', String(modelId));
    return (await api.request('POST', '/api/v1/inspect', undefined, { form })).body.data.results[0];
  };
  const lenient = await inspectWith(1e6);
  assert.equal(lenient.good, true);
  assert.deepEqual(lenient.boxes, []);
  const strict = await inspectWith(1e-6);
  assert.equal(strict.good, false);
  assert.ok(strict.boxes.length > 0);
});

test('a training its images cannot do is refused before anything is stored, in both languages', async () => {
  const uploaded = await api.upload([cookie('test/defect', 11)], { training: 'true', good: 'false' });
  const modelsBefore = (await api.get('/api/v1/models')).body.data.length;
  const details = { en: ['PM needs at least 1 OK images; got 0'], ja: ['PM の学習には OK 画像が 1 枚以上必要です（0 枚）'] };
  for (const language of ['en', 'ja'] as const) {
    const refused = await api.withLanguage(language).post('/api/v1/train', { algorithm_id: 'PM', name: 'no-ok-images', item_ids: uploaded.body.data.item_ids });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.errors.title, language === 'en' ? 'Not enough training data' : '学習データが足りません');
    assert.deepEqual(refused.body.errors.detail, details[language]);
  }
  assert.equal((await api.get('/api/v1/models')).body.data.length, modelsBefore);
});

test('a training that fails in its worker ends failed with the reason, in both languages, and other jobs go on', async () => {
  const uploaded = await api.upload([cookie('train/good', 20)], { training: 'true', good: 'true' });
  const [itemId] = uploaded.body.data.item_ids;
  // The image file disappears (disk trouble, a hand-cleaned folder): the worker cannot read it.
  for (const file of folderSnapshot(server.dataDir).map((f) => f.split(':')[0]).filter((f) => f.startsWith('images/') && !f.endsWith('.thumb.jpg'))) {
    if (file.includes(Buffer.from(itemId).toString('base64url'))) rmSync(join(server.dataDir, file));
  }
  const failing = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'unreadable', item_ids: [itemId] });
  const workingSize = await parameterId(api, 'PM', 'working_size');
  const fine = await api.post('/api/v1/train', {
    algorithm_id: 'PM', name: 'fine', item_ids: ['normal-1', 'normal-10'], override_params: [{ algorithm_parameter_id: workingSize, value: 64 }],
  });
  const failed = await api.waitForModel(failing.body.data.model_id);
  assert.equal(failed.status, 'failed');
  assert.match(failed.status_text, /^Training failed: .*(ENOENT|no such file|blob not found)/);
  const inJapanese = (await api.withLanguage('ja').get(`/api/v1/models/${failed.model_id}`)).body.data;
  assert.match(inJapanese.status_text, /^学習に失敗しました: /);
  assert.equal((await api.waitForModel(fine.body.data.model_id)).status, 'active');
  await api.request('DELETE', `/api/v1/item/${itemId}`);
});

test('callbacks: each finished prediction is POSTed, signed, and retried after a failure', async () => {
  const { createServer } = await import('node:http');
  const { createHmac } = await import('node:crypto');
  const received: { body: string; signature: string; attempt: string }[] = [];
  let answered = 0;
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push({ body, signature: String(request.headers['x-kensa-signature']), attempt: String(request.headers['x-kensa-attempt']) });
      // The first delivery fails: the server must try again.
      response.statusCode = answered++ === 0 ? 500 : 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  try {
    const port = (receiver.address() as { port: number }).port;
    assert.equal((await api.post('/api/v1/callbacks', { url: 'ftp://example.com/x' })).status, 400);
    const registered = await api.post('/api/v1/callbacks', { url: `http://127.0.0.1:${port}/hook` });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    const { secret, callback_id } = registered.body.data;
    assert.equal((await api.get('/api/v1/callbacks')).body.data[0].secret, undefined, 'the secret is shown once');

    const uploaded = await api.upload([cookie('test/good', 8)], { training: 'false' });
    await api.post('/api/v1/serve', { item_ids: uploaded.body.data.item_ids, model_id: modelId });
    const deadline = Date.now() + 20_000;
    while (received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 2, 'delivered twice: a failure, then a success');
    assert.deepEqual(received.map((r) => r.attempt), ['1', '2']);
    for (const delivery of received) {
      assert.equal(delivery.signature, `sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`);
      const payload = JSON.parse(delivery.body);
      assert.equal(payload.event, 'prediction.finished');
      assert.deepEqual(payload.item_id, uploaded.body.data.item_ids[0]);
      assert.equal(typeof payload.good, 'boolean');
    }
    assert.deepEqual((await api.request('DELETE', `/api/v1/callbacks/${callback_id}`)).body, { data: { status: 'ok' } });
    assert.deepEqual((await api.get('/api/v1/callbacks')).body.data, []);
  } finally {
    receiver.close();
  }
});

test('the newest model that trained becomes active, whatever order the trainings finish in', async () => {
  const twoWorkers = await startTestServer({ workers: 2 });
  try {
    const client = await new Api(twoWorkers.url).login('alice', 'alice-secret');
    await client.upload(Array.from({ length: 10 }, (_, i) => cookie('train/good', i)), { training: 'true', good: 'true' });
    const workingSize = await parameterId(client, 'PM', 'working_size');
    const slow = await client.post('/api/v1/train', { algorithm_id: 'PM', name: 'older-slow', override_params: [{ algorithm_parameter_id: workingSize, value: 768 }] });
    const quick = await client.post('/api/v1/train', { algorithm_id: 'PM', name: 'newer-quick', override_params: [{ algorithm_parameter_id: workingSize, value: 48 }] });
    const quickModel = await client.waitForModel(quick.body.data.model_id);
    const slowModel = await client.waitForModel(slow.body.data.model_id, 120_000);
    assert.equal(quickModel.status, 'active');
    assert.equal(slowModel.status, 'active');
    const models = (await client.get('/api/v1/models')).body.data;
    assert.deepEqual(models.filter((m: any) => m.active).map((m: any) => m.name), ['newer-quick']);
  } finally {
    await twoWorkers.dispose();
  }
});

// Last: the model it trains becomes the active one.
test('a model\'s evaluation says what AutoTune chose and how each candidate scored', async () => {
  const workingSize = await parameterId(api, 'IF', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'IF', name: 'tuned', override_params: [{ algorithm_parameter_id: workingSize, value: 64 }] });
  assert.equal(trained.status, 200, JSON.stringify(trained.body));
  assert.equal((await api.waitForModel(trained.body.data.model_id, 120_000)).status, 'active');
  const { evaluation, parameters } = (await api.get(`/api/v1/models/${trained.body.data.model_id}`)).body.data;
  const tuned = evaluation.auto_tuned.n_estimators;
  assert.deepEqual(tuned.scores.map((c: any) => c.value), ['10', '50', '100', '200']);
  for (const candidate of tuned.scores) assert.ok(candidate.auroc >= 0 && candidate.auroc <= 1, JSON.stringify(candidate));
  const best = tuned.scores.reduce((a: any, b: any) => (b.auroc > a.auroc ? b : a));
  assert.equal(tuned.chosen, best.value);
  // The model was trained with the chosen value, and says so in its parameters too.
  assert.equal(parameters.find((p: any) => p.name === 'n_estimators').value, tuned.chosen);
  // The PM model has no AutoTune parameters.
  assert.deepEqual((await api.get(`/api/v1/models/${modelId}`)).body.data.evaluation.auto_tuned, {});
});
