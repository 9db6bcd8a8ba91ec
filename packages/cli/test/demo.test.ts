import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadMvtecDataset } from '@kensa/engine';
import { VisualInspectionSDK } from '@kensa/sdk';
import { startServer, type RunningServer } from '../../server/src/index.ts';
import { json, runKensa, type Run } from './run-kensa.ts';

const ok = (run: Run, code = 0) => assert.equal(run.code, code, `exit ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);

describe('kensa demo', { timeout: 240_000 }, () => {
  let server: RunningServer;
  let dataDir: string;
  let home: string;
  let env: Record<string, string>;
  const client = { clientId: 'demo', clientSecret: 'demo-secret' };

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kensa-demo-data-'));
    home = await mkdtemp(join(tmpdir(), 'kensa-demo-home-'));
    server = await startServer({ dataDir, host: '127.0.0.1', port: 0, bootstrapClients: [client], workers: 1 });
    env = { HOME: home, KENSA_PROFILE: join(home, 'profile.json') };
  });

  after(async () => {
    await server?.close();
    for (const dir of [dataDir, home]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('against a fresh server: ends with an active model and every held-back image predicted, NG mostly on defects', async () => {
    const started = performance.now();
    const run = await runKensa(['demo', '--url', `${server.url}/api`, '--client-id', client.clientId, '--client-secret', client.clientSecret, '--json'], env);
    const seconds = (performance.now() - started) / 1000;
    ok(run);
    assert.ok(seconds < 120, `the demo took ${seconds.toFixed(0)} s; it must show results within two minutes`);
    const answer = json(run);

    // What the server holds, asked independently of the demo's own report.
    const sdk = new VisualInspectionSDK({ apiUrl: `${server.url}/api`, ...client });
    const models = await sdk.getModels();
    assert.equal(models.length, 1);
    assert.equal(models[0].status, 'active');
    assert.equal(models[0].active, true);
    assert.equal(String(models[0].model_id), String(answer.model.model_id));
    assert.equal(models[0].ng_img_count, 4, 'two defective images per defect kind teach the threshold');

    const items = await sdk.getItems();
    const heldBack = items.predict.filter((i) => i.item_id.startsWith('demo1-'));
    assert.equal(heldBack.length, 12);
    // The truth is in each item id (demo1-metal-<good|scratch|dent>-NNN), which the model never sees.
    const defective = (id: string) => !/-good-\d+$/.test(id);
    let truePositives = 0, falsePositives = 0, falseNegatives = 0;
    for (const item of heldBack) {
      assert.equal(item.status, 'done', `${item.item_id} was predicted`);
      const verdict = item.models.find((m) => String(m.model_id) === String(models[0].model_id))?.aggregate.label;
      assert.ok(verdict === 'OK' || verdict === 'NG', `${item.item_id} has the demo model's verdict (${verdict})`);
      if (verdict === 'NG' && defective(item.item_id)) truePositives++;
      if (verdict === 'NG' && !defective(item.item_id)) falsePositives++;
      if (verdict === 'OK' && defective(item.item_id)) falseNegatives++;
    }
    const precision = truePositives / Math.max(1, truePositives + falsePositives);
    const recall = truePositives / (truePositives + falseNegatives);
    assert.ok(precision >= 0.75 && recall >= 0.75, `NG verdicts: precision ${precision.toFixed(2)}, recall ${recall.toFixed(2)}\n${run.stdout}`);
    assert.deepEqual(
      [answer.summary.defective_found, answer.summary.good - answer.summary.good_passed],
      [truePositives, falsePositives], 'the demo reports what the server holds');

    // Defective training images carry their defects as annotation boxes.
    const taught = await sdk.getItem('demo1-metal-scratch-000', { showAnnotations: true });
    assert.equal(taught.good, false);
    assert.ok(taught.images[0].annotations.length >= 1);
    assert.equal(taught.images[0].annotations[0].notes, 'scratch');
    assert.match(answer.links.dashboard, /^http:\/\/127\.0\.0\.1:\d+\/#\/dashboard$/);
  });

  it('--export writes an MVTec-layout dataset that kensa bench can read, without a server', async () => {
    const dir = join(home, 'wood-set');
    const run = await runKensa(['demo', '--export', dir, '--product', 'wood', '--seed', '7', '--train-good', '3', '--test-good', '2', '--test-per-defect', '2', '--json'], env);
    ok(run);
    assert.deepEqual(json(run), { dir, product: 'wood', seed: 7, images: 9, masks: 4, defects: ['knot', 'crack'] });
    assert.deepEqual((await readdir(join(dir, 'ground_truth'))).sort(), ['crack', 'knot']);
    const dataset = await loadMvtecDataset(dir);
    assert.equal(dataset.train.length, 3);
    assert.equal(dataset.test.filter((t) => t.defect && t.maskPath).length, 4);
  });

  it('refuses unknown products, export-only options without --export, and malformed parameters', async () => {
    const product = await runKensa(['demo', '--export', join(home, 'x'), '--product', 'plastic'], env);
    ok(product, 2);
    assert.match(product.stderr, /--product must be one of metal, wood/);
    const format = await runKensa(['demo', '--format', 'jpeg', '--url', 'http://127.0.0.1:1/api', '--client-id', 'a', '--client-secret', 'b'], env);
    ok(format, 2);
    assert.match(format.stderr, /--format applies to --export only/);
    const param = await runKensa(['demo', '--param', 'working_size', '--url', 'http://127.0.0.1:1/api', '--client-id', 'a', '--client-secret', 'b'], env);
    ok(param, 2);
    assert.match(param.stderr, /--param takes name=value/);
  });
});
