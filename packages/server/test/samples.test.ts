import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Api, startTestServer, type TestServer } from './helpers.ts';

let server: TestServer;
let alice: Api;
let bob: Api;

before(async () => {
  server = await startTestServer();
  alice = await new Api(server.url).login('alice', 'alice-secret');
  bob = await new Api(server.url).login('bob', 'bob-secret');
});
after(() => server.dispose());

test('POST /v1/samples makes the sample project: target "Kensa demo", a trained model, the held-back set predicted, verdicts counted', async () => {
  // A small working size keeps it quick; the UI's button inspects at the photos' own size.
  const started = await alice.post('/api/v1/samples', { working_size: 160 });
  assert.equal(started.status, 200, JSON.stringify(started.body));
  const jobId = started.body.data.job_id;
  assert.equal(started.body.data.status, 'running');
  // A second press while it runs answers the same job instead of starting another.
  assert.equal((await alice.post('/api/v1/samples', {})).body.data.job_id, jobId);

  const progressSeen: number[] = [];
  let job = started.body.data;
  const deadline = Date.now() + 240_000;
  while (job.status === 'running' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    job = (await alice.get(`/api/v1/samples/${jobId}`)).body.data;
    progressSeen.push(job.progress);
  }
  assert.equal(job.status, 'done', `job ended ${job.status}: ${job.error}`);
  assert.equal(job.progress, 1);
  assert.ok(progressSeen.some((p) => p > 0 && p < 1), `progress was reported along the way: ${progressSeen.slice(0, 20).join(', ')}`);
  for (let i = 1; i < progressSeen.length; i++) assert.ok(progressSeen[i] >= progressSeen[i - 1], 'progress never goes back');

  const targets = (await alice.get('/api/v1/targets')).body.data;
  const demo = targets.find((t: any) => t.name === 'Kensa demo');
  assert.ok(demo, 'the target exists');
  assert.equal(job.target_id, demo.target_id);
  const models = (await alice.get(`/api/v1/models?target=${demo.target_id}`)).body.data;
  assert.equal(models.length, 1);
  assert.equal(models[0].model_id, job.model_id);
  assert.equal(models[0].status, 'active');

  const items = (await alice.get(`/api/v1/items?target=${demo.target_id}`)).body.data;
  assert.equal(items.training.length, 24 + 4, '24 good and 2 defective of each of the 2 kinds for training');
  assert.deepEqual(items.predict.map((i: any) => i.item_id).sort(), [...job.item_ids].sort());
  assert.equal(job.item_ids.length, 6 + 3 * 2, '6 good and 3 of each kind held back');
  // The results are counted from the items' own verdicts, against the truth of the plan.
  const details = await Promise.all(job.item_ids.map(async (id: string) => (await alice.get(`/api/v1/item/${id}`)).body.data));
  assert.ok(details.every((d) => d.status === 'done' && typeof d.computed_assessment.good === 'boolean'), 'every held-back item has a verdict');
  const defective = details.filter((d) => !d.item_id.includes('-good-'));
  assert.equal(job.results.defective, defective.length);
  assert.equal(job.results.defective_found, defective.filter((d) => d.computed_assessment.good === false).length);
  assert.equal(job.results.good_passed, details.filter((d) => d.item_id.includes('-good-') && d.computed_assessment.good === true).length);
  // A defective training image has its defects boxed, as a person would annotate it.
  const trainingDefective = items.training.find((i: any) => /-(scratch|dent)-/.test(i.item_id));
  const detail = (await alice.get(`/api/v1/item/${trainingDefective.item_id}?show_annotations=true`)).body.data;
  assert.ok(detail.images[0].annotations.length >= 1, 'defect boxed');
  // Even at this small size the model must find most defects: a demo that shows nothing convinces nobody.
  assert.ok(job.results.defective_found >= job.results.defective / 2, JSON.stringify(job.results));

  assert.equal((await bob.get(`/api/v1/samples/${jobId}`)).status, 404, "another client cannot see the job");
  assert.equal((await alice.get('/api/v1/samples')).body.data[0].job_id, jobId);
});

test('POST /v1/samples refuses what it cannot do', async () => {
  assert.equal((await alice.post('/api/v1/samples', { algorithm_id: 'NOPE' })).status, 400);
  assert.equal((await alice.post('/api/v1/samples', { product: 'glass' })).status, 400);
  assert.equal((await alice.post('/api/v1/samples', { working_size: 4 })).status, 400);
  assert.equal((await new Api(server.url).post('/api/v1/samples', {})).status, 401);
});
