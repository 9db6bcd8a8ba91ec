/**
 * Scale-out, for real: two API servers (`kensa serve --no-workers`) and two workers (`kensa worker`), each its own
 * process with its own data folder, sharing PostgreSQL (a schema of this run) and an S3 server (s3rver on loopback).
 * Skipped with a message where PostgreSQL is unreachable, except under CI, where that is a failure (.ci/run).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import sharp from 'sharp';
import { Api, cookie, dropPostgresSchema, freshPostgresUrl, postgresSkipReason, TEST_POSTGRES_URL, until } from './helpers.ts';
import { startS3Server, type TestS3Server } from './s3-server.ts';

const CLI = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const skip = (await postgresSkipReason()) ?? false;

interface KensaProcess {
  child: ChildProcess;
  /** What the process printed first: the server's URL, or the worker's id. */
  ready: string;
  dataDir: string;
  stop(): Promise<void>;
}

let databaseUrl: string;
let s3: TestS3Server;
const processes: KensaProcess[] = [];

function environment(): Record<string, string> {
  return {
    ...process.env as Record<string, string>,
    KENSA_DATABASE_URL: databaseUrl, KENSA_BLOB_URL: s3.url,
    // A killed worker's job is taken over once its lease runs out: short here, so the test does not wait long.
    KENSA_JOB_LEASE_MS: '3000',
    KENSA_BOOTSTRAP_CLIENT: '',
  };
}

async function spawnKensa(args: string[], readyPattern: RegExp): Promise<KensaProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kensa-scale-'));
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args, '--data-dir', dataDir], {
    cwd: ROOT, env: environment(), stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      const match = readyPattern.exec(output);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`kensa ${args.join(' ')} exited with ${code}: ${output}`)));
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kensa ${args.join(' ')} not ready after 90 s: ${output}`));
    }, 90_000).unref();
  });
  const stopped = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: KensaProcess = {
    child, ready, dataDir,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await stopped;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  processes.push(handle);
  return handle;
}

const startApiServer = () => spawnKensa(['serve', '--no-workers', '--port', '0', '--bootstrap-client', 'alice:alice-secret'], /listening on (http:\/\/\S+)/);
const startWorker = () => spawnKensa(['worker', '--concurrency', '1', '--json'], /"worker_id":"([^"]+)"/);

/** The installation's own tables, read directly (which worker ran what). */
async function query<T>(text: string, values: unknown[] = []): Promise<T[]> {
  const schema = new URL(databaseUrl).searchParams.get('schema')!;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as T[];
  } finally {
    await client.end();
  }
}

let apiA: Api;
let apiB: Api;
const workers: KensaProcess[] = [];

before(async () => {
  if (skip) return;
  databaseUrl = freshPostgresUrl();
  s3 = await startS3Server();
  // The first server creates the schema; the second starts on it (both at once also works: migrations take a lock).
  const [serverA, serverB] = await Promise.all([startApiServer(), startApiServer()]);
  workers.push(...await Promise.all([startWorker(), startWorker()]));
  apiA = await new Api(serverA.ready).login('alice', 'alice-secret');
  apiB = new Api(serverB.ready);
  apiB.token = apiA.token; // a token from one server is good on the other
}, { timeout: 200_000 });

after(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  if (skip) return;
  await s3?.close();
  await dropPostgresSchema(databaseUrl);
});

test('upload through one API server, read through the other: items, images and tokens are shared', { skip, timeout: 120_000 }, async () => {
  const files = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => cookie('train/good', i));
  const uploaded = await apiA.upload(files, { training: 'true', good: 'true' });
  assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));
  const listed = await apiB.get('/api/v1/items');
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.body.data.training.map((i: any) => i.item_id).sort(), files.map((f) => f.name.replace(/\.\w+$/, '')).sort());
  const detail = await apiB.get(`/api/v1/item/${listed.body.data.training[0].item_id}`);
  const raw = await fetch(detail.body.data.images[0].raw_url);
  assert.equal(raw.status, 200);
  const original = files.find((f) => f.name.startsWith(detail.body.data.item_id))!;
  assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), new Uint8Array(original.bytes));
});

test('failed logins count on every server: guesses spread over both are slowed down as on one', { skip, timeout: 60_000 }, async () => {
  const attempt = (api: Api) => api.timedFailedLogin('alice');
  const first = await attempt(apiA);
  for (let i = 0; i < 6; i++) await attempt(i % 2 === 0 ? apiB : apiA);
  const later = await attempt(apiB);
  assert.ok(later >= 350 && later > first, `8th failure (4 of them on this server) took ${later.toFixed(0)} ms, the first ${first.toFixed(0)} ms`);
  await new Api(apiA.baseUrl).login('alice', 'alice-secret'); // the right secret still works, and resets the count
  assert.deepEqual(await query('SELECT * FROM login_failures WHERE client_id = $1', ['alice']), []);
});

test('a worker killed (SIGKILL) in the middle of training: the other worker takes the job over and the model ends active', { skip, timeout: 240_000 }, async () => {
  const trained = await apiB.post('/api/v1/train', { name: 'scale-out', algorithm_id: 'PS' });
  assert.equal(trained.status, 200, JSON.stringify(trained.body));
  const modelId = trained.body.data.model_id;
  const [running] = await until('the training to start on a worker', async () => {
    const rows = await query<{ job_id: number; worker_id: string }>(`SELECT job_id, worker_id FROM jobs WHERE name = 'train' AND status = 'running'`);
    return rows.length > 0 ? rows : null;
  });
  await until('training progress', async () => (await apiA.get(`/api/v1/models/${modelId}`)).body.data.progress > 0);
  const victim = workers.find((w) => w.ready === running.worker_id)!;
  const survivor = workers.find((w) => w !== victim)!;
  assert.ok(victim, `the running worker ${running.worker_id} is one of ours`);
  victim.child.kill('SIGKILL');

  const model = await apiA.waitForModel(modelId, 200_000);
  assert.equal(model.status, 'active', JSON.stringify(model));
  const [job] = await query<{ status: string; attempts: number; worker_id: string }>('SELECT status, attempts, worker_id FROM jobs WHERE job_id = $1', [running.job_id]);
  assert.equal(job.status, 'done');
  assert.equal(job.worker_id, survivor.ready, 'finished by the other worker');
  assert.equal(job.attempts, 2);
  workers.splice(workers.indexOf(victim), 1, await startWorker());
});

test('predictions spread over both workers, with the model one of them trained; results readable through either server', { skip, timeout: 240_000 }, async () => {
  const files = [...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => cookie('test/good', i)), ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => cookie('test/defect', i))]
    .map((f, i) => ({ name: `predict-${i}.png`, bytes: f.bytes }));
  const uploaded = await apiB.upload(files, { training: 'false' });
  assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));
  const itemIds: string[] = uploaded.body.data.item_ids;
  // Server B's event stream hears of predictions that workers finish, though the serve request went to A.
  const stream = new AbortController();
  const events = await fetch(`${apiB.baseUrl}/api/v1/events`, { headers: { authorization: `Bearer ${apiB.token}` }, signal: stream.signal });
  const doneByEvent = new Set<string>();
  const reading = (async () => {
    const decoder = new TextDecoder();
    const reader = events.body!.getReader();
    let text = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      for (const match of text.matchAll(/event: item\ndata: (.+)\n/g)) {
        const event = JSON.parse(match[1]);
        if (event.status === 'done') doneByEvent.add(event.item_id);
      }
    }
  })().catch(() => {});
  const served = await apiA.post('/api/v1/serve', { item_ids: itemIds });
  assert.equal(served.status, 200, JSON.stringify(served.body));
  await apiB.waitForItems(itemIds, 200_000);
  await until('every finished prediction as an event on the other server', async () => itemIds.every((id) => doneByEvent.has(id)), 10_000);
  stream.abort();
  await reading;
  const ranOn = await query<{ worker_id: string; n: number }>(`SELECT worker_id, COUNT(*)::int AS n FROM jobs WHERE name = 'predict' AND status = 'done' GROUP BY worker_id`);
  assert.equal(ranOn.reduce((n, r) => n + r.n, 0), itemIds.length);
  assert.deepEqual(ranOn.map((r) => r.worker_id).sort(), workers.map((w) => w.ready).sort(), 'both workers predicted');
  const items = (await apiA.get('/api/v1/items')).body.data.predict;
  assert.equal(items.length, itemIds.length);
  assert.ok(items.every((i: any) => typeof i.good === 'boolean'));
  const defective = items.filter((i: any) => /predict-(8|9|1\d)$/.test(i.item_id));
  assert.ok(defective.filter((i: any) => i.good === false).length >= 6, 'most defects found');
  const detail = await apiB.get(`/api/v1/item/${defective[0].item_id}`);
  const overlay = await fetch(detail.body.data.images[0].url);
  assert.equal(overlay.status, 200);
  assert.equal(overlay.headers.get('content-type'), 'image/png');

  // A synchronous inspection on one server: its heatmap URL works on the other (the heatmap waits in shared storage).
  const form = new FormData();
  form.append('heatmap', 'true');
  form.append('files[0]', new Blob([new Uint8Array(cookie('test/defect', 3).bytes)]), 'line-1.jpg');
  const inspected = await apiA.request('POST', '/api/v1/inspect', undefined, { form });
  assert.equal(inspected.status, 200, JSON.stringify(inspected.body));
  const heatmapUrl = new URL(inspected.body.data.results[0].heatmap_url);
  const viaB = await fetch(new URL(heatmapUrl.pathname + heatmapUrl.search, apiB.baseUrl));
  assert.equal(viaB.status, 200);
  assert.equal(viaB.headers.get('content-type'), 'image/png');
});

test('200 concurrent uploads over both servers: nothing lost, nothing duplicated', { skip, timeout: 240_000 }, async () => {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 120, g: 90, b: 60 } } }).png().toBuffer();
  const names = Array.from({ length: 200 }, (_, i) => `burst-${String(i).padStart(3, '0')}`);
  const answers = await Promise.all(names.map((name, i) => (i % 2 === 0 ? apiA : apiB).upload([{ name: `${name}.png`, bytes: png }], { training: 'false' })));
  assert.deepEqual(answers.map((a) => a.status).filter((s) => s !== 200), []);
  assert.deepEqual(answers.flatMap((a) => a.body.data.item_ids).sort(), names);
  const rows = await query<{ item_id: string; images: number }>(`SELECT i.item_id, COUNT(m.image_id)::int AS images FROM items i
    JOIN images m ON m.item_pk = i.pk WHERE i.item_id LIKE 'burst-%' GROUP BY i.item_id ORDER BY i.item_id`);
  assert.deepEqual(rows.map((r) => r.item_id), names);
  assert.ok(rows.every((r) => r.images === 1));
  // Every stored file is in the shared storage: fetched through the server that did not receive it.
  for (const i of [0, 1, 99, 198, 199]) {
    const detail = await (i % 2 === 0 ? apiB : apiA).get(`/api/v1/item/${names[i]}`);
    const raw = await fetch(detail.body.data.images[0].raw_url);
    assert.deepEqual(new Uint8Array(await raw.arrayBuffer()), new Uint8Array(png));
  }
});
