/**
 * Jobs read their files while they run (training decodes each image when it gets to it). With S3 storage those
 * files are downloaded copies in a bounded local cache, which other downloads evict: a job holds its copies until
 * it ends. Here the cache holds less than one image, so every download evicts the one before.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Api, cookie, startTestServer, type TestServer } from './helpers.ts';
import { startS3Server, type TestS3Server } from './s3-server.ts';

let s3: TestS3Server;
let server: TestServer;
let api: Api;

before(async () => {
  s3 = await startS3Server();
  server = await startTestServer({ blobUrl: `${s3.url}&cacheMB=0.2` });
  api = await new Api(server.url).login('alice', 'alice-secret');
});

after(async () => {
  await server?.dispose();
  await s3?.close();
});

function cacheBytes(): number {
  const caches = join(server.dataDir, 'cache');
  return readdirSync(caches).flatMap((dir) => readdirSync(join(caches, dir)).map((name) => statSync(join(caches, dir, name)).size))
    .reduce((sum, size) => sum + size, 0);
}

test('a training whose images do not fit the download cache reads every image it was given, then the cache shrinks back', async () => {
  const images = [0, 1, 2, 3, 4, 5].map((i) => cookie('train/good', i));
  assert.ok(images.every((image) => image.bytes.length > 0.2 * 1024 * 1024), 'each image is larger than the whole cache');
  const uploaded = await api.upload(images, { training: 'true', good: 'true' });
  assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));

  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'held' });
  assert.equal(trained.status, 200, JSON.stringify(trained.body));
  const model = await api.waitForModel(trained.body.data.model_id, 120_000);
  assert.equal(model.status, 'active', model.status_text ?? JSON.stringify(model));
  assert.ok(cacheBytes() <= 0.2 * 1024 * 1024 + Math.max(...images.map((image) => image.bytes.length)),
    `after the training the cache is back to its bound and the file last asked for (${cacheBytes()} bytes)`);
});
