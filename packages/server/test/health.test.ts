import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Api, cookie, parameterId, startTestServer, type TestServer } from './helpers.ts';

/** GET /api/health on the embedded default (the outage on PostgreSQL: database-outage.test.ts). */
let server: TestServer;
let api: Api;

before(async () => {
  server = await startTestServer({ workers: 1 });
  api = await new Api(server.url).login('alice', 'alice-secret');
});

after(async () => {
  await server?.dispose();
});

test('health needs no token and shows the database and the job backlog', async () => {
  const idle = await fetch(`${server.url}/api/health`);
  assert.equal(idle.status, 200);
  const { data } = await idle.json();
  assert.equal(data.status, 'ok');
  assert.match(data.version, /^\d+\.\d+/);
  assert.equal(data.database, process.env.KENSA_TEST_POSTGRES === '1' ? 'postgres' : 'sqlite');
  assert.equal(data.events, process.env.KENSA_TEST_POSTGRES === '1' ? 'connected' : 'local');
  assert.deepEqual(data.jobs, { queued: 0, running: 0, oldest_queued_seconds: null });

  // Three trainings on one worker thread: one runs, the others wait.
  await api.upload([0, 1, 2, 3].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(api, 'PS', 'working_size');
  const models: number[] = [];
  for (const name of ['one', 'two', 'three']) {
    const trained = await api.post('/api/v1/train', { algorithm_id: 'PS', name, override_params: [{ algorithm_parameter_id: workingSize, value: 256 }] });
    assert.equal(trained.status, 200, JSON.stringify(trained.body));
    models.push(trained.body.data.model_id);
  }
  const busy = (await (await fetch(`${server.url}/api/health`)).json()).data.jobs;
  assert.ok(busy.running <= 1, JSON.stringify(busy));
  assert.ok(busy.queued >= 1 && busy.queued + busy.running >= 2, JSON.stringify(busy));
  assert.ok(busy.oldest_queued_seconds >= 0 && busy.oldest_queued_seconds < 60, JSON.stringify(busy));
  for (const id of models) await api.waitForModel(id, 180_000);
  assert.deepEqual((await (await fetch(`${server.url}/api/health`)).json()).data.jobs, { queued: 0, running: 0, oldest_queued_seconds: null });
});
