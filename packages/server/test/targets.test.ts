import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import { migrateSqlite as migrate } from '../src/store/migrations/sqlite.ts';
import { Api, connectTestMqtt, cookie, folderSnapshot, parameterId, startTestServer, TEST_MQTT_URL, type TestServer } from './helpers.ts';

/** Inspection targets, their migration, failed predictions, deletion leaving nothing behind, and MQTT. */
let server: TestServer;
let api: Api;
let workingSize: number;

async function trainSmall(target?: string): Promise<number> {
  const trained = await api.post('/api/v1/train', {
    algorithm_id: 'PM', name: `pm-${target ?? 'default'}`, override_params: [{ algorithm_parameter_id: workingSize, value: 96 }], ...(target ? { target } : {}),
  });
  assert.equal(trained.status, 200, JSON.stringify(trained.body));
  assert.equal((await api.waitForModel(trained.body.data.model_id)).status, 'active');
  return trained.body.data.model_id;
}

async function waitForItem(itemId: string): Promise<any> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const item = (await api.get(`/api/v1/item/${itemId}`)).body.data;
    if (item.status === 'done') return item;
    if (Date.now() > deadline) throw new Error(`item ${itemId} still ${item.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  // Its MQTT broker is on this machine.
  server = await startTestServer({ allowPrivateTargets: true });
  api = await new Api(server.url).login('alice', 'alice-secret');
  workingSize = await parameterId(api, 'PM', 'working_size');
  await api.upload([0, 1, 2, 3].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  await trainSmall();
});
after(async () => { await server.dispose(); });

test('targets keep items, models and the active model apart; the default target keeps the original routes', async () => {
  const listed = (await api.get('/api/v1/targets')).body.data;
  assert.equal(listed.length, 1);
  assert.equal(listed[0].default, true);
  assert.equal(listed[0].name, 'Default target');
  assert.equal((await api.withLanguage('ja').get('/api/v1/targets')).body.data[0].name, 'デフォルトの検査対象');

  const created = await api.post('/api/v1/targets', { name: 'line-B' });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const lineB = created.body.data;
  assert.equal(lineB.default, false);
  assert.equal((await api.post('/api/v1/targets', { name: 'line-B' })).status, 400, 'names are unique per client');
  assert.equal((await api.get('/api/v1/items?target=nowhere')).status, 404);

  // Line B has no model yet: serving its items must not borrow the default target's model.
  const uploadedB = await api.upload([cookie('train/good', 4), cookie('train/good', 5), cookie('train/good', 6)], { training: 'true', good: 'true', target: 'line-B' });
  assert.equal(uploadedB.status, 200, JSON.stringify(uploadedB.body));
  const probeB = await api.upload([cookie('test/good', 0)], { training: 'false', target: String(lineB.target_id) });
  assert.equal((await api.post('/api/v1/serve', { item_ids: probeB.body.data.item_ids })).status, 400);
  // An item id belongs to one target.
  assert.equal((await api.upload([cookie('test/good', 0)], { training: 'false' })).status, 400);

  const defaultItems = (await api.get('/api/v1/items')).body.data;
  assert.deepEqual(defaultItems.training.map((i: any) => i.item_id).sort(), [0, 1, 2, 3].map((i) => cookie('train/good', i).name.replace(/\.\w+$/, '')).sort());
  assert.equal(defaultItems.summary.title, 'Default target');
  const itemsB = (await api.get(`/api/v1/items?target=line-B`)).body.data;
  assert.equal(itemsB.training.length, 3);
  assert.equal(itemsB.predict.length, 1);
  assert.equal(itemsB.summary.title, 'line-B');
  assert.equal(itemsB.summary.training_stats.OK_count, 3);

  // Training in line B learns from line B only and becomes line B's active model, not the default's.
  const modelB = await trainSmall('line-B');
  const detailB = (await api.get(`/api/v1/models/${modelB}`)).body.data;
  assert.equal(detailB.target_id, lineB.target_id);
  assert.equal(detailB.ok_img_count, 3);
  const models = (await api.get('/api/v1/models')).body.data;
  assert.deepEqual(models.filter((m: any) => m.active).map((m: any) => m.target_id).sort(), [listed[0].target_id, lineB.target_id].sort(), 'one active model per target');
  assert.deepEqual((await api.get('/api/v1/models?target=line-B')).body.data.map((m: any) => m.model_id), [modelB]);

  const served = await api.post('/api/v1/serve', { item_ids: probeB.body.data.item_ids });
  assert.equal(served.status, 200, JSON.stringify(served.body));
  const done = await waitForItem(probeB.body.data.item_ids[0]);
  assert.deepEqual(done.models.map((m: any) => m.model_id), [modelB], "served with line B's active model");

  // Synchronous inspection picks the target's active model.
  const form = new FormData();
  form.append('files[0]', new Blob([new Uint8Array(cookie('test/defect', 0).bytes)]), 'probe.png');
  form.append('target', 'line-B');
  const inspected = await api.request('POST', '/api/v1/inspect', undefined, { form });
  assert.equal(inspected.status, 200, JSON.stringify(inspected.body));
  assert.equal(inspected.body.data.model_id, modelB);
  assert.equal((await api.get('/api/v1/targets')).body.data.find((t: any) => t.target_id === lineB.target_id).item_count, 4);

  // An imported model joins the target it is imported into, as its active model; the default target's stays.
  const exported = await fetch(`${server.url}/api/v1/models/${modelB}/export`, { method: 'POST', headers: { authorization: `Bearer ${api.token}` } });
  const importForm = new FormData();
  importForm.append('model', new Blob([new Uint8Array(await exported.arrayBuffer())]), 'copy-of-b.kensa-model');
  importForm.append('target', 'line-B');
  const imported = await api.request('POST', '/api/v1/models/import', undefined, { form: importForm });
  assert.equal(imported.status, 200, JSON.stringify(imported.body));
  assert.equal(imported.body.data.target_id, lineB.target_id);
  const active = (await api.get('/api/v1/models')).body.data.filter((m: any) => m.active);
  assert.deepEqual(active.map((m: any) => m.model_id).sort(), [models.find((m: any) => m.target_id === listed[0].target_id && m.active).model_id, imported.body.data.model_id].sort());
  await api.request('DELETE', '/api/v1/model', { model_ids: [imported.body.data.model_id] });
});

test('the migration puts existing items and models in a default target per client', () => {
  const path = join(server.dataDir, 'migration.sqlite');
  const db = new Database(path);
  try {
    migrate(db, 4); // the schema before targets
    db.prepare(`INSERT INTO clients VALUES ('old', 'x', '2026-01-01T00:00:00Z')`).run();
    db.prepare(`INSERT INTO items (client_id, item_id, is_training, created_at) VALUES ('old', 'a', 1, '2026-01-01T00:00:00Z')`).run();
    db.prepare(`INSERT INTO models (client_id, name, algorithm_id, algorithm_type, status, active, version, overrides_json, parameters_json,
      item_pks_json, created_at, updated_at) VALUES ('old', 'm', 'PM', 'unsupervised', 'active', 1, 'v', '{}', '{}', '[]', 'x', 'x')`).run();
    migrate(db);
    const target = db.prepare(`SELECT * FROM targets WHERE client_id = 'old'`).all() as any[];
    assert.equal(target.length, 1);
    assert.equal(target[0].is_default, 1);
    assert.equal((db.prepare(`SELECT target_id FROM items WHERE item_id = 'a'`).get() as any).target_id, target[0].target_id);
    assert.equal((db.prepare(`SELECT target_id FROM models WHERE name = 'm'`).get() as any).target_id, target[0].target_id);
  } finally {
    db.close();
    rmSync(path, { force: true });
  }
});

test('a prediction that fails leaves its reason on the item and no verdict (it was "done" with no result)', async () => {
  const uploaded = await api.upload([cookie('test/defect', 1)], { training: 'false' });
  const [itemId] = uploaded.body.data.item_ids;
  await api.post('/api/v1/serve', { item_ids: [itemId] });
  const first = await waitForItem(itemId);
  assert.equal(typeof first.good, 'boolean');
  assert.equal(first.prediction_error, null);

  // The image file disappears (disk trouble, a hand-cleaned folder): the next prediction cannot read it.
  for (const file of folderSnapshot(server.dataDir).map((f) => f.split(':')[0]).filter((f) => f.startsWith('images/') && !f.endsWith('.thumb.jpg'))) {
    if (file.includes(Buffer.from(itemId).toString('base64url'))) rmSync(join(server.dataDir, file));
  }
  await api.post('/api/v1/serve', { item_ids: [itemId] });
  const failed = await waitForItem(itemId);
  assert.match(failed.prediction_error, /^Prediction failed: .*(ENOENT|no such file|blob not found)/);
  assert.equal(failed.good, null, 'no verdict, although an earlier prediction had one');
  assert.equal(failed.computed_assessment.good, null);
  assert.equal(failed.computed_assessment.assessment_result, null);
  const listed = (await api.get('/api/v1/items?status=done')).body.data.predict.find((i: any) => i.item_id === itemId);
  assert.equal(listed.good, null);
  assert.match((await api.withLanguage('ja').get(`/api/v1/item/${itemId}`)).body.data.prediction_error, /^予測に失敗しました: /);
  await api.request('DELETE', `/api/v1/item/${itemId}`);
});

test('deleting a predicted item leaves nothing of it in the data folder', async () => {
  const isData = (f: string) => !f.startsWith('kensa.sqlite');
  const before = folderSnapshot(server.dataDir).filter(isData);
  const uploaded = await api.upload([cookie('test/defect', 2)], { training: 'false' });
  const [itemId] = uploaded.body.data.item_ids;
  await api.post('/api/v1/serve', { item_ids: [itemId] });
  await waitForItem(itemId);
  assert.ok(folderSnapshot(server.dataDir).filter(isData).length >= before.length + 4, 'raw, thumbnail, overlay and heatmap were written');
  await api.request('PATCH', `/api/v1/item/${itemId}`, { archived: true });
  assert.equal((await api.request('DELETE', `/api/v1/item/${itemId}`)).status, 200);
  assert.deepEqual(folderSnapshot(server.dataDir).filter(isData), before);
  const { readdirSync } = await import('node:fs');
  const clientFolder = join(server.dataDir, 'images', Buffer.from('alice').toString('base64url'));
  assert.ok(!readdirSync(clientFolder).includes(Buffer.from(itemId).toString('base64url')), 'the item folder went too');
});

test('MQTT: a target configured with a broker gets each finished prediction on its topic', async (t) => {
  const brokerUrl = TEST_MQTT_URL;
  const subscriber = await connectTestMqtt(t);
  if (!subscriber) return;
  try {
    const line = (await api.post('/api/v1/targets', { name: 'line-mqtt', mqtt_url: brokerUrl })).body.data;
    assert.match(line.mqtt.topic, new RegExp(`/targets/${line.target_id}/predictions$`));
    assert.equal((await api.post('/api/v1/targets', { name: 'bad-broker', mqtt_url: 'http://x' })).status, 400);
    const messages: { topic: string; payload: any }[] = [];
    subscriber.on('message', (topic, payload) => messages.push({ topic, payload: JSON.parse(payload.toString()) }));
    await subscriber.subscribeAsync(line.mqtt.topic, { qos: 1 });

    await api.upload([4, 5, 6].map((i) => cookie('train/good', i + 3)), { training: 'true', good: 'true', target: 'line-mqtt' });
    const modelId = await trainSmall('line-mqtt');
    const probe = await api.upload([cookie('test/defect', 4)], { training: 'false', target: 'line-mqtt' });
    const [itemId] = probe.body.data.item_ids;
    await api.post('/api/v1/serve', { item_ids: [itemId] });
    const done = await waitForItem(itemId);
    const deadline = Date.now() + 10_000;
    while (messages.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(messages.length, 1);
    const { topic, payload } = messages[0];
    assert.equal(topic, line.mqtt.topic);
    assert.equal(payload.item_id, itemId);
    assert.equal(payload.model_id, modelId);
    assert.equal(payload.target_id, line.target_id);
    assert.equal(payload.good, done.computed_assessment.good);
    assert.equal(typeof payload.score, 'number');
    assert.ok(Array.isArray(payload.images[0].boxes));

    // Predictions of a target without a broker publish nothing.
    const quiet = await api.upload([cookie('test/good', 5)], { training: 'false' });
    await api.post('/api/v1/serve', { item_ids: quiet.body.data.item_ids });
    await waitForItem(quiet.body.data.item_ids[0]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(messages.length, 1);
  } finally {
    await subscriber.endAsync();
  }
});

test('the summary counts kept by triggers equal a full recount after predictions, reviews, archiving and deletions', async () => {
  /** Counted from scratch, as GET /items did before the counts were kept by triggers. */
  const recount = (targetId: number) => {
    const db = new Database(join(server.dataDir, 'kensa.sqlite'), { readonly: true });
    try {
      return (db.prepare(`SELECT model_id, SUM(g) AS ok, SUM(1 - g) AS ng, SUM(confirmed) AS confirmed,
        SUM(CASE WHEN confirmed = 1 AND override_good IS NOT NULL AND override_good <> g THEN 1 ELSE 0 END) AS adjusted
        FROM (SELECT a.model_id, MIN(a.good) AS g, i.confirmed, i.override_good FROM assessments a JOIN items i ON i.pk = a.item_pk
          WHERE i.target_id = ? AND i.is_training = 0 AND i.archived = 0 GROUP BY a.model_id, i.pk)
        GROUP BY model_id ORDER BY model_id`).all(targetId) as any[])
        .map((r) => ({ model_id: r.model_id, OK_count: r.ok, NG_count: r.ng, done_count: r.ok + r.ng, confirmed_count: r.confirmed, adjusted_count: r.adjusted }));
    } finally {
      db.close();
    }
  };
  const check = async (moment: string) => {
    for (const target of (await api.get('/api/v1/targets')).body.data) {
      const stats = (await api.get(`/api/v1/items?target=${target.target_id}`)).body.data.summary.predict_stats
        .map(({ accuracy: _accuracy, ...counts }: any) => counts);
      assert.deepEqual(stats, recount(target.target_id), `${moment}, target ${target.name}`);
    }
  };
  const uploaded = await api.upload([6, 7, 8].map((i) => cookie('test/defect', i)), { training: 'false' });
  const ids: string[] = uploaded.body.data.item_ids;
  const models = (await api.get('/api/v1/models')).body.data;
  const defaultModel = models.find((m: any) => m.name === 'pm-default').model_id;
  await api.post('/api/v1/serve', { item_ids: ids });
  for (const id of ids) await waitForItem(id);
  await check('after predictions');
  const verdicts = await Promise.all(ids.map(async (id) => (await api.get(`/api/v1/item/${id}`)).body.data.computed_assessment.good));
  await api.request('PATCH', `/api/v1/item/${ids[0]}`, { good: !verdicts[0] });
  await api.request('PATCH', `/api/v1/item/${ids[1]}`, { good: verdicts[1] });
  await api.request('PATCH', `/api/v1/item/${ids[2]}`, { archived: true });
  await check('after reviews and archiving');
  assert.ok((await api.get('/api/v1/items')).body.data.summary.predict_stats.some((s: any) => s.adjusted_count >= 1));
  await api.request('PATCH', `/api/v1/item/${ids[2]}`, { archived: false });
  await api.request('DELETE', `/api/v1/item/${ids[0]}`);
  await check('after unarchiving and deleting');
  assert.equal((await api.request('DELETE', '/api/v1/model', { model_ids: [defaultModel] })).status, 200);
  await check('after deleting a model');
  assert.ok(!(await api.get('/api/v1/items')).body.data.summary.predict_stats.some((s: any) => s.model_id === defaultModel));
});
