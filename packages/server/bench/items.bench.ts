/**
 * Items at scale (not a test): GET /v1/items pages with 100,000 items, on loopback with autocannon.
 *   node --import tsx packages/server/bench/items.bench.ts [seconds=5]
 * The server runs in its own process (as under `npm start`, one worker). 100,000 predict items of the default
 * target (90% done with an assessment, 10% pending) and 1,000 of a second target are copied in SQL from one real
 * upload and prediction: the list reads rows, not files. The last line lists right after a write (a review).
 * Each line is compared with GET /v1/workers (a route
 * that reads almost nothing) measured in the same run, since the machine is shared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { Api, cookie, parameterId, spawnServerProcess } from '../test/helpers.ts';

const seconds = Number(process.argv[2] ?? 5);
const ITEMS = 100_000;
const dataDir = mkdtempSync(join(tmpdir(), 'kensa-items-bench-'));
const { url, stop: stopServer } = await spawnServerProcess(dataDir);
const api = await new Api(url).login('alice', 'alice-secret');
const auth = { authorization: `Bearer ${api.token}` };

async function run(title: string, path: string) {
  const result = await autocannon({ url: url + path, headers: auth, connections: 4, duration: seconds });
  console.log(`| ${title} | ${result.requests.average.toFixed(0)} | ${result.latency.p50} ms | ${result.latency.p99} ms | ${result.non2xx + result.errors} |`);
  return result;
}

try {
  // One real prediction to copy: a trained PM model, one predicted item.
  await api.upload([0, 1, 2].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'bench', override_params: [{ algorithm_parameter_id: workingSize, value: 96 }] });
  await api.waitForModel(trained.body.data.model_id);
  const seeded = await api.upload([cookie('test/good', 0)], { training: 'false' });
  await api.post('/api/v1/serve', { item_ids: seeded.body.data.item_ids });
  await api.waitForItems(seeded.body.data.item_ids);
  const lineB = (await api.post('/api/v1/targets', { name: 'line-B' })).body.data;

  const started = Date.now();
  const db = new Database(join(dataDir, 'kensa.sqlite'));
  let deepCursor = 0;
  db.transaction(() => {
    const item = db.prepare(`SELECT * FROM items WHERE client_id = 'alice' AND is_training = 0`).get() as Record<string, any>;
    const image = db.prepare('SELECT * FROM images WHERE item_pk = ?').get(item.pk) as Record<string, any>;
    const assessment = db.prepare('SELECT * FROM assessments WHERE item_pk = ?').get(item.pk) as Record<string, any>;
    const insertItem = db.prepare(`INSERT INTO items (client_id, target_id, item_id, label, is_training, good, status, created_at, finished_date)
      VALUES ('alice', ?, ?, ?, 0, NULL, ?, ?, ?)`);
    const insertImage = db.prepare(`INSERT INTO images (item_pk, client_id, file_name, content_type, file_size, width, height, sha256, raw_path, thumbnail_path, exif_json, created_at)
      VALUES (?, 'alice', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insertAssessment = db.prepare(`INSERT INTO assessments (image_id, model_id, item_pk, score, good, threshold, detected_objects, detection_accuracy,
      boxes_json, overlay_path, heatmap_path, created_at, finished_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (let i = 0; i < ITEMS + 1000; i++) {
      const target = i < ITEMS ? item.target_id : lineB.target_id;
      const done = i % 10 !== 0;
      const info = insertItem.run(target, `bench-${i}`, `bench-${i}`, done ? 'done' : 'pending', item.created_at, done ? item.created_at : null);
      const imageInfo = insertImage.run(info.lastInsertRowid, `bench-${i}.jpg`, image.content_type, image.file_size, image.width, image.height, image.sha256,
        image.raw_path, image.thumbnail_path, image.exif_json, image.created_at);
      if (done) {
        insertAssessment.run(imageInfo.lastInsertRowid, assessment.model_id, info.lastInsertRowid, assessment.score, i % 7 === 0 ? 0 : 1, assessment.threshold,
          assessment.detected_objects, assessment.detection_accuracy, assessment.boxes_json, assessment.overlay_path, assessment.heatmap_path,
          assessment.created_at, assessment.finished_date);
      }
      if (i === Math.floor(ITEMS * 0.9)) deepCursor = Number(info.lastInsertRowid);
    }
  })();
  db.pragma('optimize');
  db.close();
  console.log(`seeded ${ITEMS + 1000} items in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const first = (await api.get('/api/v1/items?limit=100')).body.data;
  console.log(`first page: ${first.predict.length} items, next_cursor ${first.next_cursor}, summary done ${first.summary.predict_stats[0]?.done_count}, ` +
    `answer ${(JSON.stringify(first).length / 1000).toFixed(0)} KB`);

  console.log(`\n${seconds} s each, 4 connections, load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| request | req/s | p50 | p99 | errors |\n|---|---|---|---|---|');
  await run('`GET /v1/workers` (baseline: reads almost nothing)', '/api/v1/workers');
  await run(`\`GET /v1/items?limit=100\` (first page of ${ITEMS.toLocaleString('en')})`, '/api/v1/items?limit=100');
  await run('`GET /v1/items?limit=100&cursor=…` (page at 90%)', `/api/v1/items?limit=100&cursor=${deepCursor}`);
  await run('`GET /v1/items?status=pending&limit=100&cursor=…` (at 90%)', `/api/v1/items?status=pending&limit=100&cursor=${deepCursor}`);
  await run('`GET /v1/items?target=line-B&limit=100` (1,000 items)', '/api/v1/items?target=line-B&limit=100');

  // Lists in turn, each right after a write (a review), which changes the summary's counts.
  const cold: number[] = [];
  for (let i = 0; i < 30; i++) {
    await api.request('PATCH', `/api/v1/item/bench-${i * 7 + 1}`, { good: i % 2 === 0 });
    const started = performance.now();
    const answer = await fetch(`${url}/api/v1/items?limit=100`, { headers: auth });
    await answer.arrayBuffer();
    cold.push(performance.now() - started);
  }
  cold.sort((a, b) => a - b);
  console.log(`| \`GET /v1/items?limit=100\` right after a review, 30 in turn | – | ${cold[14].toFixed(0)} ms | max ${cold[29].toFixed(0)} ms | 0 |`);
} finally {
  await stopServer();
  rmSync(dataDir, { recursive: true, force: true });
}
