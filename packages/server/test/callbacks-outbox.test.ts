import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Api, cookie, parameterId, startTestServer } from './helpers.ts';

/** A receiver on loopback; `answers` are the statuses it gives, in order (then 204). */
function receiver(answers: number[]) {
  const received: { body: string; signature: string; delivery: string; attempt: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => { body += chunk; });
    request.on('end', () => {
      received.push({
        body, signature: String(request.headers['x-kensa-signature']), delivery: String(request.headers['x-kensa-delivery']),
        attempt: String(request.headers['x-kensa-attempt']),
      });
      response.statusCode = answers.shift() ?? 204;
      response.end();
    });
  });
  return { server, received };
}

const listen = (server: Server, port = 0) => new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
const until = async (check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('callbacks: a per-model URL gets each prediction signed, from a persisted outbox that survives a restart; a 500 is retried; no duplicate after success', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-outbox-'));
  // A port nobody listens on yet: the first attempts fail to connect.
  const probe = createServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  let first = await startTestServer({ dataDir, callbackRetryDelaysMs: [1500, 300, 300, 300], allowPrivateTargets: true });
  let second: Awaited<ReturnType<typeof startTestServer>> | null = null;
  const hook = receiver([500]);
  try {
    let api = await new Api(first.url).login('alice', 'alice-secret');
    await api.upload([0, 1, 2, 3].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
    const workingSize = await parameterId(api, 'PM', 'working_size');
    const trainModel = async (name: string) => {
      const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name, override_params: [{ algorithm_parameter_id: workingSize, value: 96 }] });
      assert.equal((await api.waitForModel(trained.body.data.model_id)).status, 'active');
      return trained.body.data.model_id as number;
    };
    const otherModel = await trainModel('other');
    const modelId = await trainModel('watched');

    assert.equal((await api.post('/api/v1/callbacks', { url: `http://127.0.0.1:${port}/hook`, model_id: 999 })).status, 404);
    const registered = await api.post('/api/v1/callbacks', { url: `http://127.0.0.1:${port}/hook`, model_id: modelId });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
    const { secret, callback_id } = registered.body.data;
    assert.equal(registered.body.data.model_id, modelId);

    // A prediction by another model is not this callback's business.
    const ignored = await api.upload([cookie('test/good', 1)], { training: 'false' });
    await api.post('/api/v1/serve', { item_ids: ignored.body.data.item_ids, model_id: otherModel });
    await api.waitForItems(ignored.body.data.item_ids);

    const uploaded = await api.upload([cookie('test/good', 2)], { training: 'false' });
    const [itemId] = uploaded.body.data.item_ids;
    await api.post('/api/v1/serve', { item_ids: [itemId], model_id: modelId });
    await api.waitForItems([itemId]);
    const deliveriesOf = async () => (await api.get(`/api/v1/callbacks/${callback_id}/deliveries`)).body.data;
    await until(async () => (await deliveriesOf())[0]?.attempts === 1, 'the first (refused) attempt');
    const waiting = await deliveriesOf();
    assert.equal(waiting.length, 1, 'only the watched model\'s prediction');
    assert.equal(waiting[0].status, 'pending');
    assert.equal(waiting[0].item_id, itemId);
    // The reason (refused, an error answer, a timeout) stays in the operator's log: the tenant learns only that it failed.
    assert.equal(waiting[0].last_error, 'delivery failed');
    assert.equal(waiting[0].last_status, null);
    assert.equal(typeof waiting[0].next_attempt_at, 'string');

    // The server stops with the notification still in its outbox; the receiver comes up; the server starts again.
    await first.close();
    await listen(hook.server, port);
    second = await startTestServer({ dataDir, callbackRetryDelaysMs: [300, 300, 300, 300], allowPrivateTargets: true });
    api = await new Api(second.url).login('alice', 'alice-secret');
    await until(async () => (await deliveriesOf())[0]?.status === 'delivered', 'delivery after the restart');
    // Give a duplicate every chance to show up.
    await new Promise((r) => setTimeout(r, 1000));

    assert.equal(hook.received.length, 2, 'after the restart: a 500, then one success, then nothing more');
    assert.deepEqual(hook.received.map((r) => r.attempt), ['2', '3']);
    assert.equal(new Set(hook.received.map((r) => r.delivery)).size, 1, 'the same delivery both times');
    for (const delivery of hook.received) {
      assert.equal(delivery.signature, `sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`);
      const payload = JSON.parse(delivery.body);
      assert.equal(payload.event, 'prediction.finished');
      assert.equal(payload.item_id, itemId);
      assert.equal(payload.model_id, modelId);
      assert.equal(typeof payload.good, 'boolean');
    }
    const [state] = await deliveriesOf();
    assert.deepEqual([state.status, state.attempts, state.last_status, state.last_error, state.next_attempt_at], ['delivered', 3, 204, null, null]);
    const listed = (await api.get('/api/v1/callbacks')).body.data[0];
    assert.deepEqual(listed.deliveries, { pending: 0, delivered: 1, failed: 0 });
    assert.equal(listed.secret, undefined);
  } finally {
    hook.server.close();
    await (second ?? first).close().catch(() => undefined);
    if (second) await first.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
