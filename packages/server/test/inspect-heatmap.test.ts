import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { WORKER_HANDLERS } from '../src/jobs/handlers.ts';
import type { InspectInput, InspectOutput } from '../src/jobs/protocol.ts';
import { InspectHeatmapCache } from '../src/services/inspect-heatmaps.ts';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

/** POST /inspect heatmaps: rendered only when asked (heatmap=true or store=true), served at a signed URL. */
let server: TestServer;
let api: Api;
let modelId: number;

before(async () => {
  server = await startTestServer();
  api = await new Api(server.url).login('alice', 'alice-secret');
  await api.upload([0, 1, 2, 3].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'line', override_params: [{ algorithm_parameter_id: workingSize, value: 96 }] });
  modelId = trained.body.data.model_id;
  assert.equal((await api.waitForModel(modelId)).status, 'active');
});
after(() => server.dispose());

function inspectForm(files: { name: string; bytes: Uint8Array }[], fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  files.forEach((f, i) => form.append(`files[${i}]`, new Blob([new Uint8Array(f.bytes)]), f.name));
  return form;
}

test('heatmap=true: each result has a signed heatmap_url of a PNG the size of its image, private to the client', async () => {
  const files = [cookie('test/good', 1), cookie('test/defect', 3)];
  const answer = await api.request('POST', '/api/v1/inspect', undefined, { form: inspectForm(files, { heatmap: 'true' }) });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  for (const [index, result] of answer.body.data.results.entries()) {
    assert.match(result.heatmap_url, /^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/images\/inspect\/[\w-]+\?token=/);
    // No bearer header: the signed token in the URL is enough, as for <img>.
    const fetched = await fetch(result.heatmap_url);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get('content-type'), 'image/png');
    const png = Buffer.from(await fetched.arrayBuffer());
    const [heatmap, original] = await Promise.all([sharp(png).metadata(), sharp(files[index].bytes).metadata()]);
    assert.equal(heatmap.format, 'png');
    assert.deepEqual([heatmap.width, heatmap.height], [original.width, original.height]);

    const path = new URL(result.heatmap_url).pathname;
    const bob = await new Api(server.url).login('bob', 'bob-secret');
    assert.equal((await bob.get(path)).status, 404, "another client cannot read it");
    assert.equal((await fetch(`${server.url}${path}?token=forged.token.value`)).status, 401);
  }
  assert.equal((await api.get('/api/v1/images/inspect/no-such-heatmap')).status, 404);
  const items = (await api.get('/api/v1/items')).body.data;
  assert.equal(items.predict.length, 0, 'heatmap=true alone stores nothing');
});

test('without the flag heatmap_url is null; a wrong flag value is a 400', async () => {
  const answer = await api.request('POST', '/api/v1/inspect', undefined, { form: inspectForm([cookie('test/defect', 3)], {}) });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.data.results[0].heatmap_url, null);
  const refused = await api.request('POST', '/api/v1/inspect', undefined, { form: inspectForm([cookie('test/defect', 3)], { heatmap: 'maybe' }) });
  assert.equal(refused.status, 400);
});

test('the worker renders heatmaps only when asked', async () => {
  const modelFolder = join(server.dataDir, 'models');
  const blobs = readdirSync(modelFolder, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.equal(blobs.length, 1);
  const file = cookie('test/defect', 3);
  const path = join(server.dataDir, 'tmp', 'inspect-heatmap-test');
  writeFileSync(path, file.bytes);
  const { width, height } = await sharp(file.bytes).metadata();
  const context = { onProgress: () => {}, signal: new AbortController().signal };
  const run = (renderHeatmaps: boolean) => WORKER_HANDLERS.inspect({
    blobPath: join(blobs[0].parentPath, blobs[0].name), overrides: {}, files: [{ path, fileName: file.name, width: width!, height: height! }], renderHeatmaps,
  } satisfies InspectInput as never, context) as Promise<InspectOutput>;
  const [without, withHeatmap] = [await run(false), await run(true)];
  assert.equal(without.results[0].heatmapPng, null);
  assert.ok(withHeatmap.results[0].heatmapPng && withHeatmap.results[0].heatmapPng.byteLength > 0);
  assert.equal(without.results[0].score, withHeatmap.results[0].score, 'rendering does not change the verdict');
});

test('store=true renders the heatmap too, and stores the files as predict items', async () => {
  const file = cookie('test/good', 4);
  const answer = await api.request('POST', '/api/v1/inspect', undefined, { form: inspectForm([file], { store: 'true' }) });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal((await fetch(answer.body.data.results[0].heatmap_url)).status, 200);
  const items = (await api.get('/api/v1/items')).body.data;
  assert.equal(items.predict.length, 1);
  await api.waitForItems([items.predict[0].item_id]);
});

test('the heatmap cache is bounded by count, bytes and age, and private per client', () => {
  let now = 0;
  const cache = new InspectHeatmapCache(1000, 250, 3, () => now);
  const ids = [1, 2, 3, 4].map(() => cache.put('alice', new Uint8Array(50)));
  assert.deepEqual(cache.size, { entries: 3, bytes: 150 }, 'count bound: the oldest went');
  assert.equal(cache.get('alice', ids[0]), null);
  assert.ok(cache.get('alice', ids[3]));
  assert.equal(cache.get('bob', ids[3]), null);
  cache.put('alice', new Uint8Array(200));
  assert.ok(cache.size.bytes <= 250, `byte bound: ${cache.size.bytes}`);
  now = 1001;
  assert.equal(cache.get('alice', ids[3]), null, 'expired');
  assert.deepEqual(cache.size, { entries: 0, bytes: 0 });
});

test('a truncated JPEG sent to /inspect: 400 naming the file and why (the worker finds it; the request reads headers only)', async () => {
  const real = cookie('test/defect', 0);
  const truncated = { name: 'half.jpg', bytes: real.bytes.subarray(0, real.bytes.length / 2) };
  const form = new FormData();
  form.append('files[0]', new Blob([new Uint8Array(real.bytes)]), real.name);
  form.append('files[1]', new Blob([new Uint8Array(truncated.bytes)]), truncated.name);
  const answer = await api.request('POST', '/api/v1/inspect', undefined, { form });
  assert.equal(answer.status, 400, JSON.stringify(answer.body));
  assert.deepEqual(answer.body.errors.detail, ["Invalid filename half.jpg: the image data is truncated"]);
});
