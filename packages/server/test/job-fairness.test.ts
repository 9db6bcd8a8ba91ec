/**
 * One tenant cannot starve another: with two worker threads, three long trainings of one client leave a worker for
 * another client's prediction. Deleting a running training stops its worker thread: the job ends cancelled, the
 * worker is free again within a moment, and the half-made model file is gone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { ensureClients } from '../src/bootstrap.ts';
import { ClientsRepository } from '../src/store/clients.repository.ts';
import { Api, cookie, freshPostgresUrl, parameterId, trainQuickModel, until } from './helpers.ts';

test('three long trainings of one client do not hold back another client\'s prediction; deleting a running training stops its worker', { timeout: 600_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-fairness-'));
  // KENSA_TEST_POSTGRES=1: the same on PostgreSQL, where jobs reach the workers through pg-boss.
  const { app, kensa } = await buildApp({ dataDir, workers: 2, webDist: null, databaseUrl: process.env.KENSA_TEST_POSTGRES === '1' ? freshPostgresUrl() : null });
  try {
    await ensureClients(kensa, [{ clientId: 'alice', clientSecret: 'alice-secret' }, { clientId: 'bob', clientSecret: 'bob-secret' }], () => new ClientsRepository(kensa.db).count());
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const alice = await new Api(url).login('alice', 'alice-secret');
    const bob = await new Api(url).login('bob', 'bob-secret');

    await bob.upload([0, 1, 2, 3].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
    const bobModel = await trainQuickModel(bob, 'bob-line');

    // Alice's trainings: the autoencoder on full-size images, minutes each on a shared machine.
    await alice.upload(Array.from({ length: 10 }, (_, i) => cookie('train/good', i)), { training: 'true', good: 'true' });
    const overrides = [
      { algorithm_parameter_id: await parameterId(alice, 'AE', 'working_size'), value: 384 },
      { algorithm_parameter_id: await parameterId(alice, 'AE', 'train_size'), value: 16384 },
    ];
    const aliceModels: number[] = [];
    for (let i = 0; i < 3; i++) {
      const trained = await alice.post('/api/v1/train', { algorithm_id: 'AE', name: `long-${i}`, override_params: overrides });
      assert.equal(trained.status, 200, JSON.stringify(trained.body));
      aliceModels.push(trained.body.data.model_id);
    }
    const aliceCreating = async () => (await alice.get('/api/v1/models')).body.data.filter((m: { model_id: number; status: string }) => aliceModels.includes(m.model_id) && m.status === 'creating').length;
    await until('one of alice\'s trainings to run', async () => kensa.pool.runningJobIds().length > 0, 30_000);

    const uploaded = await bob.upload([cookie('test/good', 0)], { training: 'false' });
    const started = Date.now();
    assert.equal((await bob.post('/api/v1/serve', { item_ids: uploaded.body.data.item_ids, model_id: bobModel })).status, 200);
    await bob.waitForItems(uploaded.body.data.item_ids, 120_000);
    const waited = Date.now() - started;
    // On a first-come queue with every worker training, bob's prediction waits until one of alice's trainings ends.
    const stillTraining = await aliceCreating();
    assert.equal(stillTraining, 3, `bob's prediction took ${waited} ms; by then ${3 - stillTraining} of alice's trainings had ended`);

    // Delete the training that runs: its job is cancelled and its worker free within moments.
    const runningJob = (await kensa.queue.pending()).find((job) => job.status === 'running' && job.client_id === 'alice')!;
    assert.ok(runningJob, 'a training of alice runs');
    const { modelId } = JSON.parse(runningJob.payload_json) as { modelId: number };
    const deletedAt = Date.now();
    assert.deepEqual((await alice.request('DELETE', '/api/v1/model', { model_ids: [modelId] })).body, { data: { status: 'ok' } });
    await until('the worker to let go of the cancelled training', async () => !kensa.pool.runningJobIds().includes(runningJob.job_id), 5000);
    const stoppedAfter = Date.now() - deletedAt;
    assert.equal((await kensa.queue.pending()).some((job) => job.job_id === runningJob.job_id), false);
    await until('the cancelled training\'s files to go', async () => !readdirSync(join(dataDir, 'tmp')).some((name) => name.startsWith(`job-${runningJob.job_id}.`)), 5000);
    assert.ok(!readdirSync(join(dataDir, 'models')).flatMap((folder) => readdirSync(join(dataDir, 'models', folder))).includes(`${modelId}.kensa-model`));
    assert.ok(stoppedAfter < 5000, `stopped after ${stoppedAfter} ms`);

    // The others go the same way.
    const rest = aliceModels.filter((id) => id !== modelId);
    assert.deepEqual((await alice.request('DELETE', '/api/v1/model', { model_ids: rest })).body, { data: { status: 'ok' } });
    await until('no training to run', async () => kensa.pool.runningJobIds().length === 0, 5000);
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
