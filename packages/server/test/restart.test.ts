import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { Api, cookie, parameterId, spawnServerProcess, startTestServer } from './helpers.ts';


/** Uploads OK images and starts a PM training large enough to be caught while it runs. */
async function startTraining(api: Api): Promise<number> {
  await api.upload(Array.from({ length: 12 }, (_, i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'interrupted', override_params: [{ algorithm_parameter_id: workingSize, value: 768 }] });
  assert.equal(trained.status, 200, JSON.stringify(trained.body));
  return trained.body.data.model_id;
}

/** Waits until the model's job runs in a worker (its status text leaves "waiting"). */
async function waitUntilRunning(api: Api, modelId: number) {
  for (;;) {
    const model = (await api.get('/api/v1/models')).body.data.find((m: any) => m.model_id === modelId);
    assert.equal(model.status, 'creating', 'training finished before it could be interrupted');
    if (model.status_text !== 'Waiting for a free worker') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

function attemptsOf(dataDir: string, modelId: number): number {
  const db = new Database(join(dataDir, 'kensa.sqlite'), { readonly: true });
  try {
    const jobs = db.prepare(`SELECT payload_json, attempts FROM jobs WHERE name = 'train'`).all() as { payload_json: string; attempts: number }[];
    return jobs.find((j) => JSON.parse(j.payload_json).modelId === modelId)!.attempts;
  } finally {
    db.close();
  }
}

test('a stop in the middle of training: after the restart the model trains again and ends active', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-restart-'));
  try {
    const first = await startTestServer({ dataDir });
    const api = await new Api(first.url).login('alice', 'alice-secret');
    const modelId = await startTraining(api);
    await waitUntilRunning(api, modelId);
    // The API keeps answering while the model trains (the work runs in a worker thread).
    const started = performance.now();
    for (let i = 0; i < 5; i++) assert.equal((await api.get('/api/v1/workers')).body.data.training[0], 'interrupted');
    assert.ok((performance.now() - started) / 5 < 200, 'cheap route answers quickly during training');
    await first.close();

    const second = await startTestServer({ dataDir });
    const again = await new Api(second.url).login('alice', 'alice-secret');
    const model = await again.waitForModel(modelId, 120_000);
    assert.equal(model.status, 'active', model.status_text);
    assert.equal(attemptsOf(dataDir, modelId), 2, 'the interrupted job ran again');
    await second.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a crash (SIGKILL of `node --import tsx main.ts`) in the middle of training: never left creating', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-crash-'));
  try {
    const { child, url } = await spawnServerProcess(dataDir);
    const api = await new Api(url).login('alice', 'alice-secret');
    const modelId = await startTraining(api);
    await waitUntilRunning(api, modelId);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const restarted = await startTestServer({ dataDir });
    const again = await new Api(restarted.url).login('alice', 'alice-secret');
    const model = await again.waitForModel(modelId, 120_000);
    assert.ok(model.status === 'active' || model.status === 'failed');
    assert.equal(model.status, 'active', model.status_text);
    assert.equal(attemptsOf(dataDir, modelId), 2);
    await restarted.close();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
