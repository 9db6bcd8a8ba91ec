/**
 * PostgreSQL going away and coming back: GET /api/health says 503 in the contract's error format while the
 * database does not answer and 200 after; the server recovers by itself (jobs through pg-boss, events through a
 * LISTEN connection opened again) without a restart. The cut is real: the server reaches PostgreSQL through a TCP
 * relay on loopback that the test closes, dropping every connection, and opens again on the same port.
 */
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Api, cookie, dropPostgresSchema, freshPostgresUrl, parameterId, postgresSkipReason, startTestServer, until, type TestServer } from './helpers.ts';

const skip = (await postgresSkipReason()) ?? false;

/** A TCP relay to PostgreSQL that can be cut (every connection dropped, the port closed) and opened again. */
async function startRelay(target: URL) {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  const open = () => new Promise<void>((resolve, reject) => {
    server = createServer((inbound) => {
      const outbound = connect(Number(target.port || 5432), target.hostname);
      for (const socket of [inbound, outbound]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => { inbound.destroy(); outbound.destroy(); });
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      port = (server!.address() as { port: number }).port;
      resolve();
    });
  });
  await open();
  return {
    get port() { return port; },
    open,
    cut: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

let relay: Awaited<ReturnType<typeof startRelay>>;
let databaseUrl: string;
let server: TestServer;
let api: Api;

before(async () => {
  if (skip) return;
  databaseUrl = freshPostgresUrl();
  relay = await startRelay(new URL(databaseUrl));
  const throughRelay = new URL(databaseUrl);
  throughRelay.port = String(relay.port);
  server = await startTestServer({ databaseUrl: throughRelay.toString() });
  api = await new Api(server.url).login('alice', 'alice-secret');
});

after(async () => {
  if (skip) return;
  await server?.dispose();
  await relay?.cut().catch(() => {});
  await dropPostgresSchema(databaseUrl);
});

async function health(): Promise<{ status: number; body: any }> {
  const response = await fetch(`${server.url}/api/health`);
  return { status: response.status, body: await response.json() };
}

test('the database goes away: health answers 503 with the reason; it comes back: health, jobs and events recover without a restart', { skip, timeout: 120_000 }, async () => {
  const healthy = await health();
  assert.equal(healthy.status, 200, JSON.stringify(healthy.body));
  assert.equal(healthy.body.data.status, 'ok');
  assert.equal(healthy.body.data.database, 'postgres');
  assert.equal(healthy.body.data.events, 'connected');
  assert.deepEqual(healthy.body.data.jobs, { queued: 0, running: 0, oldest_queued_seconds: null });

  // An event stream opened before the outage, read through to the end of the test.
  const controller = new AbortController();
  const stream = await fetch(`${server.url}/api/v1/events`, { headers: { authorization: `Bearer ${api.token}` }, signal: controller.signal });
  assert.equal(stream.status, 200);
  const events: any[] = [];
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = stream.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      const blocks = buffer.split('\n\n');
      buffer = blocks.pop()!;
      for (const block of blocks) {
        const data = block.split('\n').find((line) => line.startsWith('data: '));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    }
  })().catch(() => {});

  await relay.cut();
  const down = await until('a 503 from /api/health', async () => { const answer = await health(); return answer.status === 503 && answer; }, 30_000);
  assert.equal(down.body.errors.status, 503);
  assert.equal(down.body.errors.title, 'Service unavailable');
  assert.match(down.body.errors.detail, /^The database does not answer: /);
  assert.equal(down.body.errors.source.pointer, '/api/health');

  // Long enough for the periodic work (job reaper, callback outbox, queue polling) to meet the outage too.
  await new Promise((resolve) => setTimeout(resolve, 5000));
  assert.equal((await health()).status, 503);
  await relay.open();
  await until('a 200 from /api/health', async () => (await health()).status === 200, 30_000);
  // The LISTEN connection comes back on its own schedule (1 s, 2 s, 4 s … after the cut); until then health says so.
  await until('events connected again', async () => (await health()).body.data.events === 'connected', 30_000);

  // Jobs and events work again: a model trained now reaches the stream opened before the outage.
  await api.upload([0, 1, 2].map((i) => cookie('train/good', i)), { training: 'true', good: 'true' });
  const workingSize = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name: 'after-outage', override_params: [{ algorithm_parameter_id: workingSize, value: 64 }] });
  assert.equal(trained.status, 200, JSON.stringify(trained.body));
  assert.equal((await api.waitForModel(trained.body.data.model_id)).status, 'active');
  await until('the model\'s events on the stream', async () => events.some((e) => e.type === 'model' && e.model_id === trained.body.data.model_id && e.status === 'active'), 30_000);
  controller.abort();
  await reading;
});
