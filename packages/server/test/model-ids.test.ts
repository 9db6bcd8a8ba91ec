/**
 * A deleted model's id never comes back, and a worker never scores with a deleted model: train, predict, delete,
 * train again → a new id, and the scores are the new model's (checked against the engine run on the new model's file).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { deserializeModel, predictImage } from '@kensa/engine';
import { pathSegment } from '../src/store/files.ts';
import { migrateSqlite, SQLITE_MIGRATIONS } from '../src/store/migrations/sqlite.ts';
import { Api, cookie, startTestServer, trainQuickModel } from './helpers.ts';

test('train, predict, delete, train again: a new model id, and the new model\'s scores', async () => {
  const server = await startTestServer();
  try {
    const api = await new Api(server.url).login('alice', 'alice-secret');
    await api.upload([0, 1, 2, 3].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
    const probe = cookie('test/defect', 0);
    const scoreOf = async (modelId: number) => {
      const uploaded = await api.upload([probe], { training: 'false' });
      const [itemId] = uploaded.body.data.item_ids;
      assert.equal((await api.post('/api/v1/serve', { item_ids: [itemId], model_id: modelId })).status, 200);
      await api.waitForItems([itemId]);
      const detail = (await api.get(`/api/v1/item/${itemId}`)).body.data;
      return detail.models.find((m: { model_id: number }) => m.model_id === modelId).assessments[0].computed.score as number;
    };

    const first = await trainQuickModel(api, 'first', 64);
    const firstScore = await scoreOf(first);
    assert.deepEqual((await api.request('DELETE', '/api/v1/model', { model_ids: [first] })).body, { data: { status: 'ok' } });

    // Another working size: another model, whose scores differ from the first's.
    const second = await trainQuickModel(api, 'second', 96);
    assert.ok(second > first, `the deleted id ${first} is not given again (got ${second})`);
    const secondScore = await scoreOf(second);

    const file = join(server.dataDir, 'models', pathSegment('alice'), `${second}.kensa-model`);
    const expected = await predictImage(deserializeModel(new Uint8Array(readFileSync(file))), new Uint8Array(probe.bytes), {});
    assert.ok(Math.abs(secondScore - expected.score) < 1e-9, `served ${secondScore}, the new model scores ${expected.score}`);
    assert.notEqual(secondScore, firstScore);
  } finally {
    await server.dispose();
  }
});

test('the SQLite migration keeps every model and what refers to it, and gives no id again, not even one deleted before it', () => {
  const db = new BetterSqlite3(':memory:');
  db.pragma('foreign_keys = ON');
  migrateSqlite(db, SQLITE_MIGRATIONS.length - 1);
  const now = '2026-01-01T00:00:00Z';
  db.prepare('INSERT INTO clients (client_id, secret_hash, created_at) VALUES (?, ?, ?)').run('plant', 'x', now);
  const target = db.prepare('INSERT INTO targets (client_id, name, is_default, created_at) VALUES (?, NULL, 1, ?)').run('plant', now).lastInsertRowid;
  const insertModel = db.prepare(`INSERT INTO models (client_id, name, algorithm_id, algorithm_type, status, version, overrides_json, parameters_json,
    item_pks_json, created_at, updated_at, target_id) VALUES ('plant', ?, 'PM', 'PM', 'active', '1', '{}', '{}', '[]', ?, ?, ?)`);
  const ids = ['a', 'b', 'c'].map((name) => Number(insertModel.run(name, now, now, target).lastInsertRowid));
  assert.deepEqual(ids, [1, 2, 3]);
  db.prepare('INSERT INTO callbacks (client_id, url, secret, created_at, model_id) VALUES (?, ?, ?, ?, ?)').run('plant', 'https://example.com/', 's', now, 2);
  db.prepare(`INSERT INTO jobs (name, client_id, payload_json, status, created_at) VALUES ('train', 'plant', '{"modelId":3}', 'done', ?)`).run(now);
  db.prepare('DELETE FROM models WHERE model_id = 3').run();

  migrateSqlite(db);
  assert.equal(db.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again');
  assert.deepEqual(db.prepare('SELECT model_id, name FROM models ORDER BY model_id').all(), [{ model_id: 1, name: 'a' }, { model_id: 2, name: 'b' }]);
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM callbacks WHERE model_id = 2').get() as { n: number }).n, 1, 'the callback of model 2 survived the rebuild');
  const next = Number(insertModel.run('d', now, now, target).lastInsertRowid);
  assert.equal(next, 4, 'model 3 was deleted before the migration, and its id is still not given again');
  db.prepare('DELETE FROM models WHERE model_id = 4').run();
  assert.equal(Number(insertModel.run('e', now, now, target).lastInsertRowid), 5);
  // Deleting a model still cascades to what refers to it.
  db.prepare('DELETE FROM models WHERE model_id = 2').run();
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM callbacks').get() as { n: number }).n, 0);
  db.close();
});
