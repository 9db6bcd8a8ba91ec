import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { APIError, VisualInspectionSDK, WaitTimeoutError, type ItemDetail, type Model } from '../src/index.ts';
import { cookie, fastestAlgorithm, QUICK_PARAMS, startLiveServer, type LiveServer } from './live-server.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

/** Runs `action` and returns the APIError it must throw. */
async function apiError(action: () => Promise<unknown>): Promise<APIError> {
  try {
    await action();
  } catch (error) {
    assert.ok(error instanceof APIError, `expected an APIError, got ${error}`);
    // The original's empty title (DeleteModels' 404) leaves the headline to the detail.
    assert.equal(error.message, `${error.title || error.detail} (${error.status})`);
    return error;
  }
  assert.fail('expected an APIError, the call succeeded');
}

describe('TypeScript SDK against a live server', { timeout: 240_000 }, () => {
  let server: LiveServer;
  let alpha: VisualInspectionSDK;
  let beta: VisualInspectionSDK;
  let tokenRequests = 0;
  let workDir: string;
  const trainingIds: string[] = [];
  let defectImageId: number | string;
  let model: Model;
  let predicted: ItemDetail[];

  before(async () => {
    server = await startLiveServer([
      { clientId: 'alpha', clientSecret: 'alpha-secret' },
      { clientId: 'beta', clientSecret: 'beta-secret' },
    ]);
    // Counts token requests, to see that authorization is lazy and done once.
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input).endsWith('/auth/token')) tokenRequests++;
      return fetch(input, init);
    };
    alpha = new VisualInspectionSDK({ apiUrl: server.apiUrl, clientId: 'alpha', clientSecret: 'alpha-secret', fetch: countingFetch });
    beta = new VisualInspectionSDK({ apiUrl: server.url, clientId: 'beta', clientSecret: 'beta-secret' });
    workDir = await mkdtemp(join(tmpdir(), 'kensa-sdk-test-'));
  });

  after(async () => {
    await server?.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('reads the version and health without a token and authorizes lazily, once', async () => {
    assert.match(await alpha.getVersionNumber(), /^\d+\.\d+/);
    const health = await alpha.getHealth();
    assert.equal(health.status, 'ok');
    assert.equal(health.database, 'sqlite');
    assert.equal(typeof health.jobs.queued, 'number');
    assert.equal(tokenRequests, 0);
    await alpha.getItems();
    await alpha.getModels();
    assert.equal(tokenRequests, 1);
    assert.ok(alpha.accessToken);
  });

  it('authorizes again, once, when the server refuses its token', async () => {
    let tokens = 0;
    const sdk = new VisualInspectionSDK({
      apiUrl: server.apiUrl, clientId: 'alpha', clientSecret: 'alpha-secret', accessToken: 'expired-or-forged',
      fetch: (input, init) => {
        if (String(input).endsWith('/auth/token')) tokens++;
        return fetch(input, init);
      },
    });
    assert.ok(Array.isArray(await sdk.getModels()));
    assert.equal(tokens, 1);
    assert.notEqual(sdk.accessToken, 'expired-or-forged');
  });

  it('throws the documented authorization errors', async () => {
    const unknown = await apiError(() => new VisualInspectionSDK({ apiUrl: server.apiUrl, clientId: 'nobody', clientSecret: 'x' }).authorize());
    assert.equal(unknown.status, 401);
    assert.equal(unknown.title, 'Cannot find client information');
    assert.equal(unknown.message, 'Cannot find client information (401)');
    assert.equal(unknown.pointer, '/api/auth/token');
    const mismatch = await apiError(() => new VisualInspectionSDK({ apiUrl: server.apiUrl, clientId: 'alpha', clientSecret: 'wrong' }).getItems());
    assert.equal(mismatch.status, 401);
    assert.equal(mismatch.title, 'Client id and secret mismatch');
    const noToken = await apiError(() => new VisualInspectionSDK({ apiUrl: server.apiUrl, accessToken: 'forged' }).getItems());
    assert.equal(noToken.status, 401);
    assert.equal(noToken.title, 'No permission to access this resource');
  });

  it('gets error titles in Japanese when asked', async () => {
    const english = await apiError(() => alpha.getItem('no-such-item'));
    const japanese = await apiError(() => new VisualInspectionSDK({ apiUrl: server.apiUrl, clientId: 'alpha', clientSecret: 'alpha-secret', language: 'ja' }).getItem('no-such-item'));
    assert.equal(japanese.status, 404);
    assert.notEqual(japanese.title, english.title);
    assert.match(japanese.title, /[\u3040-\u30ff\u4e00-\u9fff]/);
  });

  it('uploads labelled training images from paths, bytes and Blobs', async () => {
    const good = await alpha.upload([cookie('train/good', 'normal-1.jpg'), cookie('train/good', 'normal-2.jpg')], true);
    assert.deepEqual(good.item_ids, ['normal-1', 'normal-2']);
    const asBytes = await alpha.upload({ name: 'normal-3.jpg', data: await readFile(cookie('train/good', 'normal-3.jpg')) }, true);
    const asFile = await alpha.upload([new File([await readFile(cookie('train/good', 'normal-4.jpg'))], 'normal-4.jpg', { type: 'image/jpeg' })], true);
    const defect = await alpha.upload([cookie('test/defect', 'anomaly-1.jpg')], false);
    trainingIds.push(...good.item_ids, ...asBytes.item_ids, ...asFile.item_ids, ...defect.item_ids);
    assert.deepEqual(trainingIds, ['normal-1', 'normal-2', 'normal-3', 'normal-4', 'anomaly-1']);
    const items = await alpha.getItems();
    const training = new Map(items.training.map((i) => [i.item_id, i]));
    for (const id of trainingIds) assert.ok(training.has(id), `${id} listed for training`);
    assert.equal(training.get('normal-1')!.good, true);
    assert.equal(training.get('anomaly-1')!.good, false);
    assert.equal(training.get('anomaly-1')!.is_training_data, true);
  });

  it('annotates an image and reads the boxes back', async () => {
    const detail = await alpha.getItem('anomaly-1');
    assert.equal(detail.images.length, 1);
    const image = detail.images[0];
    assert.ok(image.width > 0 && image.height > 0);
    defectImageId = image.image_id;
    assert.deepEqual(await alpha.setAnnotations([{ x_min: 100, x_max: 180, y_min: 200, y_max: 260, notes: 'crack' }], defectImageId), { status: 'ok' });
    const annotated = (await alpha.getItem('anomaly-1')).images[0].annotations;
    assert.equal(annotated.length, 1);
    assert.deepEqual([annotated[0].x_min, annotated[0].x_max, annotated[0].y_min, annotated[0].y_max, annotated[0].notes], [100, 180, 200, 260, 'crack']);
  });

  it('lists algorithms with parameters and resolves parameter names to ids', async () => {
    const algorithms = await alpha.getAlgorithms();
    assert.ok(algorithms.length >= 1);
    const chosen = algorithms.find((a) => a.algorithm_id === fastestAlgorithm(algorithms.map((a) => a.algorithm_id)))!;
    const workingSize = chosen.parameters.find((p) => p.name === 'working_size')!;
    assert.equal(typeof workingSize.algorithm_parameter_id, 'number');
    const expected = [{ algorithm_parameter_id: workingSize.algorithm_parameter_id, value: '64' }];
    assert.deepEqual(await alpha.resolveParameters(chosen.algorithm_id, { working_size: 64 }), expected);
    assert.deepEqual(await alpha.resolveParameters(chosen.algorithm_id, { [String(workingSize.algorithm_parameter_id)]: '64' }), expected);
    await assert.rejects(alpha.resolveParameters(chosen.algorithm_id, { no_such_parameter: 1 }), /has no parameter no_such_parameter/);
    const tuple = chosen.parameters.find((p) => p.data_type === 'tuple');
    if (tuple) {
      for (const written of ['16,16', '16x16', [16, 16], '[16, 16]'] as const) {
        assert.deepEqual(await alpha.resolveParameters(chosen.algorithm_id, { [tuple.name]: written }), [{ algorithm_parameter_id: tuple.algorithm_parameter_id, value: '[16, 16]' }]);
      }
    }
  });

  it('trains a model and waits for it to become active', async () => {
    const algorithmId = fastestAlgorithm((await alpha.getAlgorithms()).map((a) => a.algorithm_id));
    const created = await alpha.train(algorithmId, 'sdk-life', QUICK_PARAMS, trainingIds);
    assert.equal(created.status, 'creating');
    assert.equal(created.name, 'sdk-life');
    const seen: string[] = [];
    model = await alpha.waitForModel(created.model_id, { timeoutMs: 120_000, intervalMs: 250, onProgress: (m) => seen.push(m.status) });
    assert.equal(model.status, 'active');
    assert.ok(seen.length >= 1);
    const listed = (await alpha.getModels()).find((m) => m.model_id === model.model_id)!;
    assert.equal(listed.active, true);
    const processes = await alpha.getProcesses();
    assert.ok(Array.isArray(processes.training) && Array.isArray(processes.predicting));
  });

  it('serves prediction items and reads verdicts, boxes and overlay images', async () => {
    const folder = join(workDir, 'line');
    await mkdir(folder);
    await copyFile(cookie('test/good', 'test-normal-1.jpg'), join(folder, 'line-good.jpg'));
    await copyFile(cookie('test/defect', 'anomaly-2.jpg'), join(folder, 'line-defect.jpg'));
    await writeFile(join(folder, 'notes.txt'), 'not an image, skipped by uploadFolder');
    const progress: number[] = [];
    const uploaded = await alpha.uploadFolder(folder, { batchSize: 1, onProgress: (done) => progress.push(done) });
    assert.deepEqual(uploaded.item_ids, ['line-defect', 'line-good']);
    assert.deepEqual(progress, [0, 1, 2]);
    const served = await alpha.serve(uploaded.item_ids);
    assert.deepEqual(served.item_ids, uploaded.item_ids);
    assert.equal(served.model_version, model.version);
    const counts: number[] = [];
    predicted = await alpha.waitForItems(served.item_ids, { timeoutMs: 120_000, intervalMs: 250, onProgress: (done) => counts.push(done) });
    assert.deepEqual(predicted.map((d) => d.item_id), ['line-defect', 'line-good']);
    assert.equal(counts.at(-1), 2);
    for (const detail of predicted) {
      assert.equal(detail.status, 'done');
      assert.equal(typeof detail.computed_assessment?.good, 'boolean', JSON.stringify(detail));
      const assessments = detail.models.find((m) => m.model_id === model.model_id)!.assessments;
      assert.equal(assessments.length, 1);
      assert.equal(typeof assessments[0].computed.score, 'number');
      const overlay = await alpha.downloadFile(detail.images[0].url);
      assert.deepEqual([...overlay.subarray(0, 4)], PNG_SIGNATURE, 'the overlay is a PNG');
    }
    const listed = await alpha.getItems();
    assert.ok(listed.predict.some((i) => i.item_id === 'line-good' && i.status === 'done'));
    // An item nobody served never finishes: the wait gives up with its own error, naming the item.
    const idle = await alpha.upload([cookie('test/good', 'test-normal-3.jpg')]);
    await assert.rejects(alpha.waitForItems(idle.item_ids, { timeoutMs: 300, intervalMs: 100 }), (error: Error) => error instanceof WaitTimeoutError && /test-normal-3/.test(error.message));
  });

  it('throws the documented item and upload errors', async () => {
    const missing = await apiError(() => alpha.getItem('no-such-item'));
    assert.deepEqual([missing.status, missing.title], [404, 'No match for item_id!']);
    const foreign = await apiError(() => beta.getItem('normal-1'));
    assert.deepEqual([foreign.status, foreign.title], [401, 'No permission to view item!']);
    let tokens = 0;
    const fresh = new VisualInspectionSDK({
      apiUrl: server.apiUrl, clientId: 'beta', clientSecret: 'beta-secret',
      fetch: (input, init) => {
        if (String(input).endsWith('/auth/token')) tokens++;
        return fetch(input, init);
      },
    });
    await apiError(() => fresh.getItem('normal-1'));
    assert.equal(tokens, 1, 'a 401 on a token minted for the call is final, not retried');
    const badName = await apiError(() => alpha.upload([{ name: 'bad name!.jpg', data: new Uint8Array([0xff, 0xd8, 0xff]) }]));
    assert.deepEqual([badName.status, badName.title], [400, 'Invalid Request']);
    assert.ok(Array.isArray(badName.detail) && badName.detail.some((d) => d.includes('bad name!.jpg')), `detail names the file: ${badName.detail}`);
    const notImage = await apiError(() => alpha.upload([{ name: 'fake.png', data: new TextEncoder().encode('just text') }]));
    assert.deepEqual([notImage.status, notImage.title], [400, 'Invalid Request']);
    const none = await apiError(() => alpha.upload([]));
    assert.deepEqual([none.status, none.title], [400, 'No images to upload']);
    const noImage = await apiError(() => alpha.setAnnotations([{ x_min: 1, x_max: 2, y_min: 1, y_max: 2 }], 987654));
    assert.deepEqual([noImage.status, noImage.title], [400, 'Cannot find image']);
    const outside = await apiError(() => alpha.setAnnotations([{ x_min: 50, x_max: 10, y_min: 0, y_max: 5 }], defectImageId));
    assert.equal(outside.status, 400);
  });

  it('throws the documented model, training and serving errors', async () => {
    const noModels = await apiError(() => alpha.deleteModels([987654]));
    // The original's answer: an empty title, the reason as detail (which then heads the message).
    assert.deepEqual([noModels.status, noModels.title, noModels.detail, noModels.message], [404, '', 'No model found', 'No model found (404)']);
    const algorithmId = model.algorithm_id;
    const foreignItems = await apiError(() => beta.train(algorithmId, 'theft', [], ['normal-1']));
    assert.deepEqual([foreignItems.status, foreignItems.title], [403, 'You do not have access to one or more item ids provided']);
    const workingSize = (await alpha.getAlgorithms()).find((a) => a.algorithm_id === algorithmId)!.parameters.find((p) => p.name === 'working_size')!;
    const malformed = await apiError(() => alpha.train(algorithmId, 'bad', [{ algorithm_parameter_id: workingSize.algorithm_parameter_id, value: 'not-a-number' }]));
    assert.equal(malformed.status, 400);
    assert.match(JSON.stringify([malformed.title, malformed.detail]), /working_size/);
    const noItems = await apiError(() => alpha.serve(['no-such-item']));
    assert.deepEqual([noItems.status, noItems.title], [404, 'Cannot find items']);
    const betaItem = await beta.upload([cookie('test/good', 'test-normal-2.jpg')]);
    const noModel = await apiError(() => beta.serve(betaItem.item_ids));
    assert.deepEqual([noModel.status, noModel.title], [400, 'There is no available model']);
  });

  it('activates a license and throws the documented license errors', async () => {
    await server.createClient('gamma', 'gamma-secret');
    const gamma = new VisualInspectionSDK({ apiUrl: server.apiUrl, clientId: 'gamma', clientSecret: 'gamma-secret' });
    const unlicensed = await apiError(() => gamma.train(model.algorithm_id, 'no-license', []));
    assert.deepEqual([unlicensed.status, unlicensed.title, unlicensed.detail], [403, 'Invalid license!', 'No active license']);
    assert.deepEqual(await gamma.getLicense(), { status: 'missing', client_id: 'gamma', expires_at: null, limits: null, usage: { models: 0, predictions_this_month: 0 } });
    const forged = await apiError(() => gamma.activateLicense({ name: 'forged.license', data: new TextEncoder().encode('{"client_id":"gamma"}') }));
    assert.deepEqual([forged.status, forged.title], [403, 'Invalid license!']);
    const alphaLicense = new TextEncoder().encode(await server.issueLicense('alpha'));
    const othersLicense = await apiError(() => gamma.activateLicense({ name: 'alpha.license', data: alphaLicense }));
    assert.deepEqual([othersLicense.status, othersLicense.title], [403, 'Invalid license!']);
    const path = join(workDir, 'gamma.license');
    await writeFile(path, await server.issueLicense('gamma'));
    assert.deepEqual(await gamma.activateLicense(path), { status: 'ok' });
    const license = await gamma.getLicense();
    assert.deepEqual([license.status, license.client_id, license.limits], ['active', 'gamma', { max_models: null, max_predictions_per_month: null }]);
    assert.ok(Date.parse(license.expires_at ?? '') > Date.now(), `expires_at ${license.expires_at}`);
    const again = await apiError(() => gamma.activateLicense(path));
    assert.deepEqual([again.status, again.title, again.detail], [403, 'Invalid license!', 'License already exists']);
    // Licensed now: the refusal is about its items, not its license.
    const afterLicense = await apiError(() => gamma.serve(['no-such-item']));
    assert.equal(afterLicense.status, 404);
  });

  it('uses the routes beyond the original: model detail, export/import, inspect, review, archive, delete', async () => {
    const detail = await alpha.getModel(model.model_id);
    assert.equal(detail.model_id, model.model_id);
    assert.ok(detail.evaluation && typeof detail.evaluation === 'object');
    const exported = await alpha.exportModel(model.model_id);
    assert.ok(exported.byteLength > 100);
    const imported = await beta.importModel({ name: 'sdk-life.kensa', data: exported });
    assert.equal(imported.algorithm_id, model.algorithm_id);
    assert.equal(imported.status, 'active');
    const inspected = await beta.inspect([cookie('test/defect', 'anomaly-3.jpg'), cookie('test/good', 'test-normal-4.jpg')], { modelId: imported.model_id });
    assert.equal(String(inspected.model_id), String(imported.model_id));
    assert.deepEqual(inspected.results.map((r) => r.file_name), ['anomaly-3.jpg', 'test-normal-4.jpg']);
    for (const result of inspected.results) {
      assert.equal(typeof result.good, 'boolean');
      assert.equal(typeof result.score, 'number');
      assert.equal(result.boxes.length, result.detected_objects);
    }
    assert.ok(!(await beta.getItems()).predict.some((i) => i.item_id === 'anomaly-3'), 'inspect stores nothing by default');
    assert.ok(inspected.results.every((r) => r.heatmap_url === null), 'no heatmap unless asked');
    // A threshold changed without retraining flips the verdict, and a heatmap comes when asked for.
    const flipped = await beta.updateModel(imported.model_id, await beta.resolveParameters(imported.algorithm_id, { threshold: 1e6 }));
    assert.equal(flipped.model_id, imported.model_id);
    const lenient = await beta.inspect(cookie('test/defect', 'anomaly-3.jpg'), { modelId: imported.model_id, heatmap: true });
    assert.equal(lenient.results[0].good, true, 'nothing passes a threshold of a million');
    const heatmap = await fetch(lenient.results[0].heatmap_url!);
    assert.equal(heatmap.headers.get('content-type'), 'image/png');
    const refused = await apiError(async () => beta.updateModel(imported.model_id, await beta.resolveParameters(imported.algorithm_id, { working_size: 64 })));
    assert.equal(refused.status, 400);
    // A person confirms the opposite of the verdict: an override.
    const verdict = predicted[0].computed_assessment!.good!;
    const reviewed = await alpha.reviewItem('line-defect', !verdict);
    assert.equal(reviewed.manual_assessment?.good, !verdict);
    assert.equal(reviewed.override_assessment, true);
    await alpha.archiveItem('line-good');
    assert.ok((await alpha.getItems()).archived.some((i) => i.item_id === 'line-good'));
    await alpha.archiveItem('line-good', false);
    assert.deepEqual(await alpha.deleteItem('line-good'), { status: 'ok' });
    const gone = await apiError(() => alpha.getItem('line-good'));
    assert.equal(gone.status, 404);
    const page = await alpha.getItems({ limit: 1 });
    assert.equal(page.training.length + page.predict.length + page.archived.length, 1);
    assert.equal(typeof page.next_cursor, 'string');
  });

  it('makes the sample project and follows it to the end', async () => {
    const job = await beta.createSampleProject({ working_size: 128 });
    assert.equal(job.status, 'running');
    assert.equal((await beta.getSampleProjects())[0].job_id, job.job_id);
    const steps: string[] = [];
    const done = await beta.waitForSampleProject(job.job_id, { intervalMs: 250, timeoutMs: 120_000, onProgress: (j) => steps.push(j.step) });
    assert.equal(done.status, 'done');
    assert.ok(done.results && done.results.defective + done.results.good === done.item_ids.length);
    const target = (await beta.getTargets()).find((t) => t.target_id === done.target_id);
    assert.equal(target?.name, 'Kensa demo');
    const missing = await apiError(() => beta.getSampleProject('no-such-job'));
    assert.equal(missing.status, 404);
  });

  it('keeps inspection targets apart and registers callbacks with visible delivery state', async () => {
    const [defaultTarget] = await alpha.getTargets();
    assert.equal(defaultTarget.default, true);
    const line = await alpha.createTarget('sdk-line');
    assert.equal(line.default, false);
    const uploaded = await alpha.upload([cookie('train/good', 'normal-6.jpg'), cookie('train/good', 'normal-7.jpg')], true, { target: 'sdk-line' });
    const lineItems = await alpha.getItems({ target: line.target_id });
    assert.deepEqual(lineItems.training.map((i) => i.item_id).sort(), [...uploaded.item_ids].sort());
    assert.equal(lineItems.summary.title, 'sdk-line');
    assert.ok(!(await alpha.getItems()).training.some((i) => uploaded.item_ids.includes(i.item_id)), 'not in the default target');
    const lineModel = await alpha.train(model.algorithm_id, 'sdk-line-model', QUICK_PARAMS, undefined, { target: 'sdk-line' });
    assert.equal(lineModel.target_id, line.target_id);
    assert.equal((await alpha.waitForModel(lineModel.model_id, { timeoutMs: 120_000, intervalMs: 250 })).status, 'active');
    assert.deepEqual((await alpha.getModels({ target: 'sdk-line' })).map((m) => m.model_id), [lineModel.model_id]);
    assert.equal((await alpha.getModel(model.model_id)).active, true, "the default target's model stays active");

    const callback = await alpha.registerCallback('http://127.0.0.1:9/unreachable', { modelId: lineModel.model_id });
    assert.equal(typeof callback.secret, 'string');
    assert.equal(callback.model_id, lineModel.model_id);
    const probe = await alpha.upload(cookie('test/good', 'test-normal-5.jpg'), undefined, { target: 'sdk-line' });
    await alpha.serve(probe.item_ids);
    await alpha.waitForItems(probe.item_ids, { timeoutMs: 60_000, intervalMs: 250 });
    let deliveries = await alpha.getCallbackDeliveries(callback.callback_id);
    for (let i = 0; i < 40 && (deliveries[0]?.attempts ?? 0) < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      deliveries = await alpha.getCallbackDeliveries(callback.callback_id);
    }
    assert.equal(deliveries[0].item_id, probe.item_ids[0]);
    assert.equal(deliveries[0].status, 'pending', 'nobody listens on port 9: waiting for a retry');
    assert.equal((await alpha.getCallbacks())[0].deliveries.pending, 1);
    assert.deepEqual(await alpha.deleteCallback(callback.callback_id), { status: 'ok' });

    // A target with items and models stays; an empty one can go.
    assert.equal((await apiError(() => alpha.deleteTarget('sdk-line'))).status, 409);
    const empty = await alpha.createTarget('sdk-empty');
    assert.deepEqual(await alpha.deleteTarget(empty.target_id), { status: 'ok' });
    assert.ok(!(await alpha.getTargets()).some((t) => t.name === 'sdk-empty'));
  });

  it('deletes the model', async () => {
    assert.deepEqual(await alpha.deleteModels([model.model_id]), { status: 'ok' });
    assert.ok(!(await alpha.getModels()).some((m) => m.model_id === model.model_id));
  });
});

