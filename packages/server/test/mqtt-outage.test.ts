import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostname } from 'node:os';
import { closedPort, connectTestMqtt, TEST_MQTT_URL, until } from './helpers.ts';
import { connectMqttBroker } from '../src/outbound/mqtt-connection.ts';
import { MqttService } from '../src/services/mqtt.service.ts';
import { mqttTopicOf } from '../src/services/targets.service.ts';
import type { TargetRow } from '../src/store/targets.repository.ts';

/** MQTT publishing while a broker is down: a bounded queue, drops counted and logged once, nothing blocked. */

const targetOf = (mqttUrl: string): TargetRow => ({ target_id: 7, client_id: 'plant', name: 'line-7', is_default: 0, mqtt_url: mqttUrl, created_at: '' });
const ownBroker = { mqttUrlOf: (target: TargetRow) => target.mqtt_url };

test('MQTT: while the broker is unreachable, at most maxPending messages wait and the rest are dropped and counted', async () => {
  const unreachable = 'mqtt://127.0.0.1:9'; // the discard port: connection refused
  const logged: string[] = [];
  const service = new MqttService(ownBroker, { allowPrivate: true }, (text) => logged.push(text), 3);
  try {
    for (let i = 0; i < 7; i++) service.publishPrediction(targetOf(unreachable), { item_id: `item-${i}`, good: true });
    assert.equal(service.pending.get(unreachable), 3);
    assert.equal(service.dropped.get(unreachable), 4);
    const drops = logged.filter((line) => line.includes('not published'));
    assert.equal(drops.length, 1, 'an outage is logged once, not per message');
    assert.match(drops[0], /mqtt:\/\/127\.0\.0\.1:9 has 3 messages unacknowledged: 1 prediction\(s\) not published/);
  } finally {
    const started = Date.now();
    await service.close();
    assert.ok(Date.now() - started < 10_000, 'closing does not wait for an unreachable broker');
  }
});

test('MQTT: acknowledged messages leave the queue, so a reachable broker never drops any', async (t) => {
  const brokerUrl = TEST_MQTT_URL;
  const subscriber = await connectTestMqtt(t);
  if (!subscriber) return;
  const service = new MqttService(ownBroker, { allowPrivate: true }, () => {}, 2);
  try {
    const target = { ...targetOf(brokerUrl), target_id: Date.now() }; // a topic of this run only
    const received: string[] = [];
    subscriber.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString()).item_id));
    await subscriber.subscribeAsync(mqttTopicOf(target), { qos: 1 });
    // Two at a time (the limit), waiting for their acknowledgements in between: none dropped.
    for (let round = 0; round < 3; round++) {
      service.publishPrediction(target, { item_id: `a${round}` });
      service.publishPrediction(target, { item_id: `b${round}` });
      await until('the broker to acknowledge both', async () => service.pending.get(brokerUrl) === 0, 5000);
    }
    await until('six messages', async () => received.length >= 6, 5000);
    assert.deepEqual(received.sort(), ['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
    assert.equal(service.dropped.get(brokerUrl), undefined);
  } finally {
    subscriber.end(true);
    await service.close();
  }
});

test('MQTT: a broker that refuses connections is tried again after doubling waits up to a cap, not at a fixed rate', async () => {
  const refusing = `mqtt://127.0.0.1:${await closedPort()}`;
  const client = connectMqttBroker(refusing, { allowPrivate: true }, { connectTimeout: 1000 }, { firstMs: 100, maxMs: 800 });
  const attempts: number[] = [];
  client.on('reconnect', () => attempts.push(Date.now()));
  client.on('error', () => {});
  try {
    await new Promise((resolve) => setTimeout(resolve, 5000));
  } finally {
    await client.endAsync(true);
  }
  const gaps = attempts.slice(1).map((at, i) => at - attempts[i]);
  // 100, 200, 400, 800, 800, …: about 8 attempts in 5 s, where a fixed 100 ms would make 50.
  assert.ok(attempts.length >= 5 && attempts.length <= 11, `${attempts.length} attempts: gaps ${gaps.join(', ')}`);
  assert.ok(gaps.every((gap, i) => i === 0 || gap >= gaps[i - 1] * 0.8), `growing gaps ${gaps.join(', ')}`);
  assert.ok(gaps.every((gap) => gap < 800 * 1.5), `capped gaps ${gaps.join(', ')}`);
  assert.ok(gaps.at(-1)! >= 800 * 0.7, `the cap is reached: ${gaps.join(', ')}`);
});

test('MQTT: a broker name (or number) that resolves to an internal address is refused on connecting; a literal address before', async () => {
  for (const host of [hostname(), '2130706433']) {
    const client = connectMqttBroker(`mqtt://${host}:1883`, { allowPrivate: false }, { connectTimeout: 1000 }, { firstMs: 100, maxMs: 200 });
    try {
      const error = await new Promise<Error>((resolve) => {
        client.once('error', resolve);
        setTimeout(() => resolve(new Error('no error within 5 s')), 5000);
      });
      assert.equal(error.name, 'OutboundAddressRefused', `${host}: ${error.message}`);
      assert.equal(client.connected, false);
    } finally {
      await client.endAsync(true);
    }
  }
  for (const literal of ['mqtt://127.0.0.1:1883', 'mqtt://[::ffff:127.0.0.1]:1883', 'mqtts://[::1]:8883']) {
    assert.throws(() => connectMqttBroker(literal, { allowPrivate: false }, {}), /refused/, literal);
  }
});
