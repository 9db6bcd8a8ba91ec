/**
 * API benchmark (not a test): requests per second and p99 latency on loopback, with autocannon.
 *   node --import tsx packages/server/bench/api.bench.ts [seconds=10]
 * 1. GET /v1/items with 10,000 items; 2. POST /v1/upload of one ~470 KB JPEG; 3. GET /v1/workers while a
 * model trains, at a steady 200 req/s (the event loop must stay free: p99 < 50 ms), against the same route idle.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Api, cookie, parameterId, startTestServer, spawnServerProcess } from '../test/helpers.ts';

const seconds = Number(process.argv[2] ?? 10);
const dataDir = mkdtempSync(join(tmpdir(), 'kensa-bench-'));
// The server runs in its own process (as under `npm start`), so that autocannon does not share its event loop.
const { url, stop } = await spawnServerProcess(dataDir);
const server = {
  url,
  close: stop,
};
const api = await new Api(server.url).login('alice', 'alice-secret');
const auth = { authorization: `Bearer ${api.token}` };

async function run(title: string, options: autocannon.Options) {
  const result = await autocannon({ connections: 10, duration: seconds, ...options });
  const line = `${title}: ${result.requests.average.toFixed(0)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
    `${result.non2xx} non-2xx, ${result.errors} errors`;
  console.log(line);
  return result;
}

try {
  // 10,000 items: one real upload, then rows copied in SQL (the list route reads rows, not files).
  const seed = cookie('train/good', 0);
  await api.upload([seed], { training: 'false' });
  const db = new Database(join(dataDir, 'kensa.sqlite'));
  db.transaction(() => {
    const item = db.prepare(`SELECT * FROM items WHERE client_id = 'alice'`).get() as Record<string, unknown>;
    const image = db.prepare('SELECT * FROM images WHERE item_pk = ?').get(item.pk) as Record<string, unknown>;
    const insertItem = db.prepare(`INSERT INTO items (client_id, target_id, item_id, label, is_training, good, status, created_at) VALUES ('alice', ${item.target_id}, ?, ?, 0, NULL, 'pending', ?)`);
    const insertImage = db.prepare(`INSERT INTO images (item_pk, client_id, file_name, content_type, file_size, width, height, sha256, raw_path, thumbnail_path, exif_json, created_at)
      VALUES (?, 'alice', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    for (let i = 1; i < 10_000; i++) {
      const info = insertItem.run(`bench-${i}`, `bench-${i}`, item.created_at);
      insertImage.run(info.lastInsertRowid, `bench-${i}.jpg`, image.content_type, image.file_size, image.width, image.height, image.sha256, image.raw_path, image.thumbnail_path, image.exif_json, image.created_at);
    }
  })();
  db.close();
  const items = await api.get('/api/v1/items');
  console.log(`items listed: ${items.body.data.predict.length}, answer ${(JSON.stringify(items.body).length / 1e6).toFixed(1)} MB`);
  await run('GET /v1/items (10,000 items)', { url: `${server.url}/api/v1/items`, headers: auth, connections: 4 });

  const boundary = 'kensa-bench-boundary';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="training"\r\n\r\nfalse\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files[0]"; filename="upload-bench.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    seed.bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  console.log(`upload body ${(body.length / 1000).toFixed(0)} KB`);
  await run('POST /v1/upload (one JPEG)', {
    url: `${server.url}/api/v1/upload`, method: 'POST', body,
    headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
  });

  // The cheap route at a steady 200 requests/s (not saturating): its latency shows whether the event loop is free.
  const steady = { url: `${server.url}/api/v1/workers`, headers: auth, connections: 4, overallRate: 200 };
  await run('GET /v1/workers at 200 req/s, idle (baseline)', steady);
  await api.upload(Array.from({ length: 10 }, (_, i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'bench', override_params: [{ algorithm_parameter_id: workingSize, value: 768 }] });
  const during = await run('GET /v1/workers at 200 req/s while a model trains', steady);
  const model = (await api.get('/api/v1/models')).body.data.find((m: any) => m.model_id === trained.body.data.model_id);
  console.log(`model after the measurement: ${model.status} (${model.status_text}); p99 during training ${during.latency.p99} ms ${during.latency.p99 < 50 ? '< 50 ms' : '≥ 50 ms: TOO SLOW'}`);
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}

// The event loop itself, measured inside a server process (here, this one): its delay while idle, then while
// a model trains on a worker thread. A blocked loop would show the training's length here.
{
  const inProcess = await startTestServer({ workers: 1 });
  try {
    const client = await new Api(inProcess.url).login('alice', 'alice-secret');
    await client.upload(Array.from({ length: 10 }, (_, i) => cookie('train/good', i)), { training: 'true', good: 'true' });
    const measure = async (label: string, whileRunning: () => Promise<void>) => {
      const histogram = monitorEventLoopDelay({ resolution: 5 });
      histogram.enable();
      await whileRunning();
      histogram.disable();
      console.log(`event-loop delay ${label}: p50 ${(histogram.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(1)} ms, max ${(histogram.max / 1e6).toFixed(1)} ms`);
    };
    await measure('idle, 5 s', () => new Promise((r) => setTimeout(r, 5000)));
    const workingSize = await parameterId(client, 'PM', 'working_size');
    const trained = await client.post('/api/v1/train', { algorithm_id: 'PM', name: 'loop', override_params: [{ algorithm_parameter_id: workingSize, value: 768 }] });
    await measure('while a model trains', async () => { await client.waitForModel(trained.body.data.model_id, 300_000); });
  } finally {
    await inProcess.dispose();
  }
}
