/**
 * `kensa migrate`: an embedded installation (SQLite + data folder) moved to PostgreSQL + S3 (s3rver on loopback)
 * answers the same afterwards: items, verdicts, scores, reviews, summary counts, models and every file's bytes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { moveInstallation } from '../src/index.ts';
import { Api, cookie, dropPostgresSchema, freshPostgresUrl, postgresSkipReason, startTestServer } from './helpers.ts';
import { startS3Server } from './s3-server.ts';

const skip = (await postgresSkipReason()) ?? false;

/** An answer without what depends on the server's address (URLs carry host, port and a media token). */
function withoutUrls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutUrls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([key]) => !/url|image$/.test(key)).map(([key, v]) => [key, withoutUrls(v)]));
  }
  return value;
}

/** The item left waiting for its prediction when the embedded server stopped: compared by itself. */
const WAITING_ITEM = 'waiting-at-move';

async function snapshot(api: Api) {
  const items = (await api.get('/api/v1/items')).body.data;
  items.predict = items.predict.filter((i: any) => i.item_id !== WAITING_ITEM);
  const all = [...items.training, ...items.predict, ...items.archived];
  const details = [];
  const files: Record<string, string> = {};
  for (const item of all) {
    const detail = (await api.get(`/api/v1/item/${item.item_id}`)).body.data;
    details.push(detail);
    for (const image of detail.images) {
      for (const [kind, url] of [['raw', image.raw_url], ['overlay', image.url], ['thumbnail', image.thumbnail_url], ['heatmap', image.heatmap_url]]) {
        if (!url) continue;
        const response = await fetch(url);
        assert.equal(response.status, 200, `${kind} of ${item.item_id}`);
        files[`${item.item_id}/${image.file_name}/${kind}`] = Buffer.from(await response.arrayBuffer()).toString('base64');
      }
    }
  }
  const models = (await api.get('/api/v1/models')).body.data;
  return { items: withoutUrls(items), details: withoutUrls(details), files, models: withoutUrls(models) };
}

test('kensa migrate moves an embedded installation to PostgreSQL + S3: counts, bytes and verdicts equal after', { skip, timeout: 300_000 }, async () => {
  const embedded = await startTestServer({ databaseUrl: null });
  const s3 = await startS3Server();
  const databaseUrl = freshPostgresUrl();
  let moved: Awaited<ReturnType<typeof startTestServer>> | null = null;
  const newDataDir = mkdtempSync(join(tmpdir(), 'kensa-migrated-'));
  try {
    const api = await new Api(embedded.url).login('alice', 'alice-secret');
    await api.upload([0, 1, 2, 3, 4, 5].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
    const trained = await api.post('/api/v1/train', { name: 'before the move', algorithm_id: 'PM' });
    await api.waitForModel(trained.body.data.model_id);
    const predicted = await api.upload([cookie('test/good', 0), cookie('test/defect', 0), cookie('test/defect', 1)], { training: 'false' });
    const itemIds: string[] = predicted.body.data.item_ids;
    await api.post('/api/v1/serve', { item_ids: itemIds });
    await api.waitForItems(itemIds);
    await api.request('PATCH', `/api/v1/item/${itemIds[1]}`, { good: true }); // a review that overrides
    await api.request('PATCH', `/api/v1/item/${itemIds[2]}`, { archived: true });
    await api.upload([{ name: `${WAITING_ITEM}.jpg`, bytes: cookie('test/defect', 3).bytes }], { training: 'false' });
    const before = await snapshot(api);
    await embedded.close();
    // A prediction still queued when the server stopped (as a stop between serve and the worker would leave it).
    const sqlite = new Database(join(embedded.dataDir, 'kensa.sqlite'));
    const waiting = sqlite.prepare('SELECT pk FROM items WHERE item_id = ?').get(WAITING_ITEM) as { pk: number };
    sqlite.prepare(`INSERT INTO jobs (name, client_id, payload_json, status, created_at) VALUES ('predict', 'alice', ?, 'queued', '2026-11-29T00:00:00Z')`)
      .run(JSON.stringify({ modelId: trained.body.data.model_id, itemPk: waiting.pk }));
    sqlite.close();

    const report = await moveInstallation({ dataDir: embedded.dataDir, databaseUrl, blobUrl: s3.url });
    assert.equal(report.tables.items, 10);
    assert.equal(report.tables.jobs > 0, true);
    assert.equal(report.tables.assessments, 3);
    assert.ok(report.files >= 9 * 2 + 3 * 2, `images, thumbnails, overlays and heatmaps: ${report.files}`);
    assert.ok(report.summaries >= 1);

    // A new server on another, empty data folder: everything it answers comes from PostgreSQL and S3.
    moved = await startTestServer({ dataDir: newDataDir, databaseUrl, blobUrl: s3.url });
    const after = await snapshot(await new Api(moved.url).login('alice', 'alice-secret'));
    assert.deepEqual(after.items, before.items);
    assert.deepEqual(after.details, before.details);
    assert.deepEqual(after.models, before.models);
    assert.deepEqual(Object.keys(after.files).sort(), Object.keys(before.files).sort());
    for (const key of Object.keys(before.files)) assert.equal(after.files[key], before.files[key], `${key}: same bytes`);

    // The job that was waiting runs on the new installation.
    const api2 = await new Api(moved.url).login('alice', 'alice-secret');
    await api2.waitForItems([WAITING_ITEM], 120_000);
    assert.equal(typeof (await api2.get(`/api/v1/item/${WAITING_ITEM}`)).body.data.good, 'boolean');

    // The moved model keeps predicting, and new ids do not collide with moved ones.
    const fresh = await api2.upload([cookie('test/defect', 2)], { training: 'false' });
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    await api2.post('/api/v1/serve', { item_ids: fresh.body.data.item_ids });
    await api2.waitForItems(fresh.body.data.item_ids, 120_000);

    // A second migration into the same database is refused: it already holds an installation.
    await assert.rejects(moveInstallation({ dataDir: embedded.dataDir, databaseUrl }), /already holds an installation/);
  } finally {
    await moved?.close();
    rmSync(newDataDir, { recursive: true, force: true });
    await embedded.dispose();
    await s3.close();
    await dropPostgresSchema(databaseUrl);
  }
});
