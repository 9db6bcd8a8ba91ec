/**
 * Where the server sends (callbacks, MQTT brokers): only public addresses, checked after DNS on every connection;
 * redirects are not followed; the tenant learns "delivery failed", never why; credentials in URLs are not listed.
 * KENSA_ALLOW_PRIVATE_TARGETS=1 (allowPrivateTargets) opens loopback and private networks, never metadata services.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildApp } from '../src/app.ts';
import { checkHost, OutboundAddressRefused, refusalOf } from '../src/outbound/address-policy.ts';
import { Api, closedPort, connectTestMqtt, cookie, startTestServer, TEST_MQTT_URL, trainQuickModel, until } from './helpers.ts';

const STRICT = { allowPrivate: false };
const LAN = { allowPrivate: true };

test('address policy: loopback, private, link-local, unique-local, unspecified, multicast and their IPv6 disguises are refused', () => {
  const internal = [
    '127.0.0.1', '127.1.2.3', '10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.1.1', '100.64.0.1', '169.254.10.10',
    '::1', 'fc00::1', 'fd12:3456::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::127.0.0.1',
    '64:ff9b::a00:1', '2002:c0a8:101::1',
  ];
  const never = ['0.0.0.0', '0.1.2.3', '224.0.0.1', '239.255.255.250', '255.255.255.255', '240.0.0.1', '::', 'ff02::1', '::ffff:0.0.0.0', '2001:0:4136:e378::1'];
  const metadata = ['169.254.169.254', '::ffff:169.254.169.254', 'fd00:ec2::254', '100.100.100.200'];
  const publicAddresses = ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '11.0.0.1', '2606:4700:4700::1111', '2a00:1450:4001::1'];
  for (const address of [...internal, ...never, ...metadata]) assert.notEqual(refusalOf(address, STRICT), null, address);
  for (const address of publicAddresses) assert.equal(refusalOf(address, STRICT), null, address);
  // The LAN setting opens private networks and loopback, not metadata services nor non-destinations.
  for (const address of internal) assert.equal(refusalOf(address, LAN), null, address);
  for (const address of [...never, ...metadata]) assert.notEqual(refusalOf(address, LAN), null, address);
});

test('address policy: names are refused by what they resolve to (this machine\'s name is loopback or private)', async () => {
  await assert.rejects(checkHost(hostname(), STRICT), OutboundAddressRefused);
  await assert.rejects(checkHost('localhost', STRICT), OutboundAddressRefused);
  await assert.rejects(checkHost('2130706433', STRICT), OutboundAddressRefused);
  await assert.rejects(checkHost('metadata.google.internal', LAN), OutboundAddressRefused);
  await checkHost(hostname(), LAN);
});

test('registration refuses internal callback URLs and MQTT brokers with a 400 in the envelope', async () => {
  const server = await startTestServer();
  try {
    const api = await new Api(server.url).login('alice', 'alice-secret');
    const port = await closedPort();
    const callbackUrls = [
      `http://127.0.0.1:${port}/hook`, 'http://localhost/hook', 'http://2130706433/', 'http://0x7f000001/', 'http://0177.0.0.1/', 'http://[::1]/',
      'http://[::ffff:127.0.0.1]/', 'http://169.254.169.254/latest/meta-data/', 'http://metadata.google.internal/computeMetadata/v1/',
      'http://10.0.0.1/', 'http://192.168.1.1/', 'http://172.16.5.4/', 'http://100.64.1.1/', 'http://0/', `http://${hostname()}:${port}/hook`,
      'http://[fd00::1]/', `${server.url}/api/v1/models`,
    ];
    for (const url of callbackUrls) {
      const answer = await api.post('/api/v1/callbacks', { url });
      assert.equal(answer.status, 400, `${url}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.errors.status, 400);
      assert.match(String(answer.body.errors.detail), /public internet address/);
    }
    for (const mqttUrl of ['mqtt://127.0.0.1:1883', 'mqtt://2130706433:1883', 'mqtt://localhost', 'mqtts://[::1]:8883', 'ws://169.254.169.254/mqtt', `mqtt://${hostname()}`]) {
      const answer = await api.post('/api/v1/targets', { name: `line-${mqttUrl.length}-${Math.random()}`, mqtt_url: mqttUrl });
      assert.equal(answer.status, 400, `${mqttUrl}: ${JSON.stringify(answer.body)}`);
    }
    assert.deepEqual((await api.get('/api/v1/callbacks')).body.data, []);
  } finally {
    await server.dispose();
  }
});

/** A loopback HTTP listener that records requests and answers with `answer`. */
async function listener(answer: (request: IncomingMessage) => { status: number; headers?: Record<string, string> }) {
  const received: { url: string; authorization: string | undefined }[] = [];
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received.push({ url: request.url ?? '', authorization: request.headers.authorization });
      const { status, headers } = answer(request);
      response.writeHead(status, headers).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, port: (server.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('callbacks: no redirect is followed, failures read "delivery failed" whatever the cause, credentials are not listed, and a name is checked again at each delivery', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-outbound-'));
  const elsewhere = await listener(() => ({ status: 204 }));
  const redirecting = await listener(() => ({ status: 307, headers: { location: `http://127.0.0.1:${elsewhere.port}/stolen` } }));
  const refusing = await listener(() => ({ status: 401 }));
  const accepting = await listener(() => ({ status: 204 }));
  const byName = await listener(() => ({ status: 204 }));
  const closed = await closedPort();
  // Long retry waits: each failure stays pending after its first attempt.
  const permissive = await startTestServer({ dataDir, allowPrivateTargets: true, callbackRetryDelaysMs: [600_000] });
  let strict: Awaited<ReturnType<typeof startTestServer>> | null = null;
  try {
    let api = await new Api(permissive.url).login('alice', 'alice-secret');
    await api.upload([0, 1, 2, 3].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
    const modelId = await trainQuickModel(api, 'outbound');
    const register = async (url: string) => {
      const answer = await api.post('/api/v1/callbacks', { url, model_id: modelId });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body.data;
    };
    const redirected = await register(`http://127.0.0.1:${redirecting.port}/hook`);
    const unauthorised = await register(`http://127.0.0.1:${refusing.port}/hook`);
    const unreachable = await register(`http://127.0.0.1:${closed}/hook`);
    const withCredentials = await register(`http://line3:s3cret-pass@127.0.0.1:${accepting.port}/hook`);
    const named = await register(`http://${hostname()}:${byName.port}/hook`);
    assert.ok(!JSON.stringify(withCredentials).includes('s3cret-pass'), 'the registration answer shows no password');
    assert.ok(!JSON.stringify((await api.get('/api/v1/callbacks')).body).includes('s3cret-pass'), 'the list shows no password');

    const predict = async (index: number) => {
      const uploaded = await api.upload([cookie('test/good', index)], { training: 'false' });
      await api.post('/api/v1/serve', { item_ids: uploaded.body.data.item_ids, model_id: modelId });
      await api.waitForItems(uploaded.body.data.item_ids);
    };
    const lastDelivery = async (callbackId: number) => (await api.get(`/api/v1/callbacks/${callbackId}/deliveries`)).body.data[0];
    await predict(1);
    for (const callback of [redirected, unauthorised, unreachable, withCredentials, named]) {
      await until(`callback ${callback.callback_id}'s first attempt`, async () => (await lastDelivery(callback.callback_id))?.attempts >= 1, 20_000);
    }
    for (const callback of [redirected, unauthorised, unreachable]) {
      const delivery = await lastDelivery(callback.callback_id);
      assert.deepEqual([delivery.status, delivery.last_status, delivery.last_error], ['pending', null, 'delivery failed'], JSON.stringify(delivery));
    }
    assert.equal(redirecting.received.length, 1);
    assert.equal(elsewhere.received.length, 0, 'the redirect was not followed');
    assert.equal((await lastDelivery(withCredentials.callback_id)).status, 'delivered');
    assert.equal(accepting.received[0].authorization, `Basic ${Buffer.from('line3:s3cret-pass').toString('base64')}`);
    assert.equal((await lastDelivery(named.callback_id)).status, 'delivered');
    assert.equal(byName.received.length, 1);

    // The operator withdraws the setting: the registered loopback URLs, literal or by name, are refused when sending.
    await permissive.close();
    strict = await startTestServer({ dataDir, allowPrivateTargets: false, callbackRetryDelaysMs: [600_000] });
    api = await new Api(strict.url).login('alice', 'alice-secret');
    await predict(2);
    for (const callback of [withCredentials, named]) {
      await until(`callback ${callback.callback_id}'s refused attempt`, async () => (await lastDelivery(callback.callback_id))?.last_error === 'delivery failed', 20_000);
    }
    assert.equal(accepting.received.length, 1, 'nothing more reached the loopback listener');
    assert.equal(byName.received.length, 1, 'nothing more reached the listener behind the machine\'s name');
  } finally {
    if (strict) await strict.close();
    else await permissive.close();
    for (const l of [elsewhere, redirecting, refusing, accepting, byName]) await l.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('targets: DELETE /targets/{target} closes its broker connection (Mosquitto, and a broker that refuses connections)', async (t) => {
  const subscriber = await connectTestMqtt(t);
  if (!subscriber) return;
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-targets-delete-'));
  const { app, kensa } = await buildApp({ dataDir, workers: 1, webDist: null, allowPrivateTargets: true });
  await app.listen({ host: '127.0.0.1', port: 0 });
  try {
    await kensa.auth.createClient('alice', 'alice-secret');
    const api = await new Api(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`).login('alice', 'alice-secret');
    const deadBroker = `mqtt://127.0.0.1:${await closedPort()}`;
    const liveBroker = `${TEST_MQTT_URL}/?run=${Date.now()}`;
    const live = (await api.post('/api/v1/targets', { name: 'line-live', mqtt_url: liveBroker })).body.data;
    const dead = (await api.post('/api/v1/targets', { name: 'line-dead', mqtt_url: deadBroker })).body.data;
    assert.ok(live && dead);

    const received: string[] = [];
    subscriber.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).item_id));
    await subscriber.subscribeAsync(live.mqtt.topic, { qos: 1 });
    for (const target of [live, dead]) kensa.mqtt.publishPrediction((await kensa.targets.byId(target.target_id))!, { item_id: `to-${target.name}` });
    await until('the live broker to pass the message on', async () => received.includes('to-line-live'), 5000);
    assert.deepEqual(kensa.mqtt.brokers.sort(), [deadBroker, liveBroker].sort());

    // A target with items or models stays; the default one always does.
    const targets = (await api.get('/api/v1/targets')).body.data;
    const defaultTarget = targets.find((x: { default: boolean }) => x.default);
    assert.equal((await api.request('DELETE', `/api/v1/targets/${defaultTarget.target_id}`)).status, 409);
    const uploaded = await api.upload([cookie('train/good', 0)], { training: 'true', good: 'true', target: 'line-live' });
    const busy = await api.request('DELETE', '/api/v1/targets/line-live');
    assert.equal(busy.status, 409);
    assert.match(busy.body.errors.detail, /1 items and 0 models/);
    assert.equal((await api.request('DELETE', `/api/v1/item/${uploaded.body.data.item_ids[0]}`)).status, 200);

    assert.deepEqual((await api.request('DELETE', '/api/v1/targets/line-dead')).body, { data: { status: 'ok' } });
    assert.deepEqual((await api.request('DELETE', `/api/v1/targets/${live.target_id}`)).body, { data: { status: 'ok' } });
    assert.deepEqual(kensa.mqtt.brokers, [], 'both connections are closed');
    assert.equal((await api.request('DELETE', '/api/v1/targets/line-dead')).status, 404);
    assert.deepEqual((await api.get('/api/v1/targets')).body.data.map((x: { name: string }) => x.name), [defaultTarget.name]);
  } finally {
    subscriber.end(true);
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
