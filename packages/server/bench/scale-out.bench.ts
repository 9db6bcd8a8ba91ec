/**
 * Scale-out sizing (not a test): jobs per minute per worker and requests per second per API server, on this
 * machine's PostgreSQL (a fresh schema, dropped at the end) and an s3rver, against the embedded default
 * (`kensa serve`, SQLite, one process) measured in the same run on the same work.
 *   node --import tsx packages/server/bench/scale-out.bench.ts [seconds-per-load-line=10] [predict-jobs=60]
 * Every Kensa process is started with the CLI, as scale-out.test.ts does. The two installations run side by side
 * and each measurement alternates between them, so that the shared machine's load falls on both alike.
 *   jobs:     one PS training (default settings) of 20 cookie images; then N predictions (POST /v1/serve of the
 *             cookie test images) from the request until every item is done, with one worker thread, then two.
 *   requests: autocannon (in its own process) on GET /v1/items?limit=100 with ~1000 items and GET /v1/models,
 *             against one API server, then the same load split over two API servers at once.
 * Prints a table per part and one JSON line at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Api, COOKIES, dropPostgresSchema, postgresSkipReason, TEST_POSTGRES_URL } from '../test/helpers.ts';
import { startS3Server, type TestS3Server } from '../test/s3-server.ts';

const seconds = Number(process.argv[2] ?? 10);
const predictJobs = Number(process.argv[3] ?? 60);
const TRAINING_IMAGES = 20;
const ITEMS_IN_LIST = 1000;
/** Connections of the request load: all on one server, or half on each of two. */
const CONNECTIONS = 8;

const CLI = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLIENT = { id: 'alice', secret: 'alice-secret' };

interface KensaProcess {
  child: ChildProcess;
  /** The server's URL, or the worker's id. */
  ready: string;
  stop(): Promise<void>;
}

const running: KensaProcess[] = [];
const temporaryFolders: string[] = [];

function temporaryFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  temporaryFolders.push(folder);
  return folder;
}

/** `kensa <args>` in its own process; resolved with the first match of readyPattern in what it prints. */
async function spawnKensa(args: string[], readyPattern: RegExp, env: Record<string, string>): Promise<KensaProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT, env: { ...process.env as Record<string, string>, KENSA_BOOTSTRAP_CLIENT: '', ...env }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: KensaProcess = {
    child, ready: '',
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      running.splice(running.indexOf(handle), 1);
    },
  };
  running.push(handle);
  handle.ready = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      output += text;
      const match = readyPattern.exec(output);
      if (match) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`kensa ${args.join(' ')} exited with ${code}: ${output}`)));
  });
  return handle;
}

const LISTENING = /listening on (http:\/\/\S+)/;
const serverArgs = (dataDir: string) => ['serve', '--port', '0', '--data-dir', dataDir, '--bootstrap-client', `${CLIENT.id}:${CLIENT.secret}`];

/** One installation under test: where its API servers listen, and how to change its number of worker threads. */
interface Setup {
  name: string;
  /** Its (first) API server; replaced when a restart moves it to another port. */
  api: Api;
  /** Restarts whatever runs jobs with this many worker threads. */
  setWorkerThreads(threads: number): Promise<void>;
}

async function embeddedSetup(): Promise<Setup> {
  const dataDir = temporaryFolder('kensa-bench-embedded-');
  let server = await spawnKensa([...serverArgs(dataDir), '--workers', '1'], LISTENING, {});
  const setup: Setup = {
    name: 'embedded',
    api: await new Api(server.ready).login(CLIENT.id, CLIENT.secret),
    setWorkerThreads: async (threads) => {
      await server.stop();
      server = await spawnKensa([...serverArgs(dataDir), '--workers', String(threads)], LISTENING, {});
      // The restarted server keeps the data folder, and with it the token secret: the same token still works.
      const token = setup.api.token;
      setup.api = new Api(server.ready);
      setup.api.token = token;
    },
  };
  return setup;
}

function scaleOutEnvironment(databaseUrl: string, s3: TestS3Server): Record<string, string> {
  return { KENSA_DATABASE_URL: databaseUrl, KENSA_BLOB_URL: s3.url };
}

const startApiServer = (env: Record<string, string>) => spawnKensa([...serverArgs(temporaryFolder('kensa-bench-api-')), '--no-workers'], LISTENING, env);
const startWorker = (env: Record<string, string>, concurrency: number) =>
  spawnKensa(['worker', '--concurrency', String(concurrency), '--json', '--data-dir', temporaryFolder('kensa-bench-worker-')], /"worker_id":"([^"]+)"/, env);

async function scaleOutSetup(env: Record<string, string>): Promise<Setup> {
  const server = await startApiServer(env);
  let worker = await startWorker(env, 1);
  const api = await new Api(server.ready).login(CLIENT.id, CLIENT.secret);
  return {
    name: 'scale-out', api,
    setWorkerThreads: async (threads) => {
      await worker.stop();
      worker = await startWorker(env, threads);
    },
  };
}

/** Polls until probe answers truthy; the wait's end is the time of the answer that did. */
async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 600_000, intervalMs = 250): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function checked(answer: { status: number; body: any }, what: string) {
  if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.data;
}

const imageFiles = (split: string) => readdirSync(join(COOKIES, split)).sort().map((name) => ({ name, bytes: readFileSync(join(COOKIES, split, name)) }));

async function uploadTrainingSet(api: Api): Promise<void> {
  const files = imageFiles('train/good').slice(0, TRAINING_IMAGES);
  checked(await api.upload(files, { training: 'true', good: 'true' }), 'training upload');
}

/** Seconds from POST /v1/train (PS, default settings) until the model is active. */
async function timeTraining(api: Api): Promise<number> {
  const started = performance.now();
  const model = checked(await api.post('/api/v1/train', { name: 'bench', algorithm_id: 'PS' }), 'train');
  const finished = await until('the training', async () => {
    const models = checked(await api.get('/api/v1/models'), 'models');
    const now = models.find((m: any) => m.model_id === model.model_id);
    return now.status === 'creating' ? null : now;
  });
  if (finished.status !== 'active') throw new Error(`training ended ${JSON.stringify(finished)}`);
  return (performance.now() - started) / 1000;
}

/** The cookie test images, repeated under new names up to `count`. */
function predictFiles(count: number) {
  const pool = [...imageFiles('test/good'), ...imageFiles('test/defect')];
  return Array.from({ length: count }, (_, i) => ({ name: `predict-${String(i).padStart(3, '0')}.${pool[i % pool.length].name.split('.').pop()}`, bytes: pool[i % pool.length].bytes }));
}

async function uploadPredictSet(api: Api): Promise<string[]> {
  const itemIds: string[] = [];
  const files = predictFiles(predictJobs);
  for (let i = 0; i < files.length; i += 20) itemIds.push(...checked(await api.upload(files.slice(i, i + 20), { training: 'false' }), 'predict upload').item_ids);
  return itemIds;
}

/** Seconds from POST /v1/serve of the items until none is left waiting or running, every item then checked done. */
async function timePredictions(api: Api, itemIds: string[]): Promise<number> {
  const started = performance.now();
  checked(await api.post('/api/v1/serve', { item_ids: itemIds }), 'serve');
  await until('the predictions', async () => {
    const workers = checked(await api.get('/api/v1/workers'), 'workers');
    return workers.predicting.length === 0 && workers.training.length === 0;
  });
  const elapsed = (performance.now() - started) / 1000;
  const listed = checked(await api.get(`/api/v1/items?limit=${itemIds.length + TRAINING_IMAGES}`), 'items');
  const predicted = listed.predict.filter((i: any) => itemIds.includes(i.item_id));
  const unfinished = predicted.filter((i: any) => i.status !== 'done' || typeof i.good !== 'boolean');
  if (predicted.length !== itemIds.length || unfinished.length > 0) {
    throw new Error(`${predicted.length} of ${itemIds.length} items listed, unfinished: ${JSON.stringify(unfinished.slice(0, 3))}`);
  }
  return elapsed;
}

/** Small PNG items up to ITEMS_IN_LIST in all, for the list to page through. */
async function fillItems(api: Api, existing: number): Promise<void> {
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 120, g: 90, b: 60 } } }).png().toBuffer();
  const names = Array.from({ length: ITEMS_IN_LIST - existing }, (_, i) => `fill-${String(i).padStart(4, '0')}.png`);
  for (let i = 0; i < names.length; i += 100) {
    checked(await api.upload(names.slice(i, i + 100).map((name) => ({ name, bytes: png })), { training: 'false' }), 'fill upload');
  }
}

interface LoadResult { requestsPerSecond: number; p50: number; p99: number; failures: number }

/** autocannon in a process of its own, so that the load generator does not share this process's event loop. */
function autocannonProcess(url: string, token: string, connections: number): Promise<LoadResult> {
  const script = `
    import autocannon from 'autocannon';
    const options = JSON.parse(process.env.LOAD);
    const result = await autocannon(options);
    console.log(JSON.stringify({ requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, failures: result.non2xx + result.errors }));
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOAD: JSON.stringify({ url, connections, duration: seconds, headers: { authorization: `Bearer ${token}` } }) },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => { output += text; });
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(output.trim().split('\n').pop()!)) : reject(new Error(`autocannon exited with ${code}: ${output}`))));
  });
}

/** The same total connections, split evenly over the servers, all at once; req/s summed. */
async function loadOn(servers: Api[], path: string): Promise<LoadResult & { perServer: number[] }> {
  const results = await Promise.all(servers.map((api) => autocannonProcess(api.baseUrl + path, api.token!, CONNECTIONS / servers.length)));
  return {
    requestsPerSecond: results.reduce((sum, r) => sum + r.requestsPerSecond, 0),
    p50: Math.max(...results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    failures: results.reduce((sum, r) => sum + r.failures, 0),
    perServer: results.map((r) => r.requestsPerSecond),
  };
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const perMinute = (jobs: number, secondsTaken: number) => (jobs * 60) / secondsTaken;

const skip = await postgresSkipReason();
if (skip) {
  console.error(`cannot measure scale-out: ${skip}`);
  process.exit(1);
}
const schemaUrl = new URL(TEST_POSTGRES_URL);
schemaUrl.searchParams.set('schema', `kensa_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`);
const databaseUrl = schemaUrl.toString();
let s3: TestS3Server | null = null;
const report: Record<string, unknown> = { bench: 'scale-out', seconds, predict_jobs: predictJobs, training_images: TRAINING_IMAGES, started_at: new Date().toISOString(), load_start: load() };

try {
  s3 = await startS3Server({ bucket: 'kensa-bench' });
  const scaleOutEnv = scaleOutEnvironment(databaseUrl, s3);
  const setups = [await embeddedSetup(), await scaleOutSetup(scaleOutEnv)];
  const [embedded, scaleOut] = setups;
  console.log(`embedded at ${embedded.api.baseUrl}; scale-out API server at ${scaleOut.api.baseUrl} on schema ${schemaUrl.searchParams.get('schema')} and ${s3.endpoint}`);

  // Jobs: each measurement on the embedded installation, then at once the same on scale-out.
  const jobs: Record<string, Record<string, number>> = { embedded: {}, 'scale-out': {} };
  for (const setup of setups) await uploadTrainingSet(setup.api);
  for (const setup of setups) {
    jobs[setup.name].training_s = await timeTraining(setup.api);
    console.log(`${setup.name}: PS training of ${TRAINING_IMAGES} images ${jobs[setup.name].training_s.toFixed(1)} s (load ${load()})`);
  }
  const itemIds = new Map<Setup, string[]>();
  for (const setup of setups) itemIds.set(setup, await uploadPredictSet(setup.api));
  for (const threads of [1, 2]) {
    if (threads > 1) for (const setup of setups) await setup.setWorkerThreads(threads);
    for (const setup of setups) {
      const taken = await timePredictions(setup.api, itemIds.get(setup)!);
      jobs[setup.name][`predict_${threads}_s`] = taken;
      console.log(`${setup.name}, ${threads} worker thread(s): ${predictJobs} predictions in ${taken.toFixed(1)} s (load ${load()})`);
    }
  }

  const row = (what: string, key: string, jobsDone: number) => {
    const base = perMinute(jobsDone, jobs.embedded[key]);
    const out = perMinute(jobsDone, jobs['scale-out'][key]);
    console.log(`| ${what} | ${base.toFixed(1)} (${jobs.embedded[key].toFixed(1)} s) | ${out.toFixed(1)} (${jobs['scale-out'][key].toFixed(1)} s) | ${(out / base).toFixed(2)} |`);
    return { embedded_per_min: base, scale_out_per_min: out, ratio: out / base };
  };
  console.log('\n| jobs | embedded (`kensa serve`) jobs/min | scale-out (`kensa worker`) jobs/min | ratio |\n|---|---|---|---|');
  report.jobs = {
    training: row(`PS training, ${TRAINING_IMAGES} images, 1 thread`, 'training_s', 1),
    predict_concurrency_1: row(`${predictJobs} predictions, 1 thread (\`--workers 1\` / \`--concurrency 1\`)`, 'predict_1_s', predictJobs),
    predict_concurrency_2: row(`${predictJobs} predictions, 2 threads (\`--workers 2\` / \`--concurrency 2\`)`, 'predict_2_s', predictJobs),
    seconds: jobs,
  };

  // Requests: ~1000 items in each installation, then autocannon on one server of each, then on two API servers.
  for (const setup of setups) await fillItems(setup.api, predictJobs + TRAINING_IMAGES);
  const second = await startApiServer(scaleOutEnv);
  const secondApi = new Api(second.ready);
  secondApi.token = scaleOut.api.token; // tokens are good on every server of the installation
  const paths = ['/api/v1/items?limit=100', '/api/v1/models'];
  // A server just started answers its first requests slowly (JIT, connection pool): warm every one up first.
  for (const api of [embedded.api, scaleOut.api, secondApi]) for (const path of paths) for (let i = 0; i < 50; i++) checked(await api.get(path), path);
  const requests: Record<string, unknown> = {};
  console.log(`\n${seconds} s per line, ${CONNECTIONS} connections in all, load ${load()}\n`);
  console.log('| request | servers | req/s | p50 | p99 | failures |\n|---|---|---|---|---|---|');
  for (const path of paths) {
    const lines: [string, Api[]][] = [['embedded, 1 process', [embedded.api]], ['scale-out, 1 API server', [scaleOut.api]], ['scale-out, 2 API servers', [scaleOut.api, secondApi]]];
    const measured: Record<string, unknown> = {};
    for (const [what, servers] of lines) {
      const result = await loadOn(servers, path);
      const split = servers.length > 1 ? ` (${result.perServer.map((r) => r.toFixed(0)).join(' + ')})` : '';
      console.log(`| \`GET ${path.replace('/api', '')}\` | ${what} | ${result.requestsPerSecond.toFixed(0)}${split} | ${result.p50} ms | ${result.p99} ms | ${result.failures} |`);
      measured[what] = result;
    }
    requests[path] = measured;
  }
  report.requests = requests;
  report.load_end = load();
  console.log(`\nload at the end ${load()}`);
  console.log(JSON.stringify(report));
} finally {
  for (const kensa of [...running].reverse()) await kensa.stop();
  await s3?.close();
  await dropPostgresSchema(databaseUrl);
  for (const folder of temporaryFolders) rmSync(folder, { recursive: true, force: true });
}
