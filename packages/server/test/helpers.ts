/** Test helpers: a real server on a free port over a temporary data folder, and a small HTTP client. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBootstrapClients, startServer, type RunningServer, type ServerOptions } from '../src/index.ts';
import { sampleDataset } from '../../engine/test/sample-datasets.ts';
import type { TestContext } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';

export const COOKIES = sampleDataset('cookies');
export const cookie = (split: 'train/good' | 'test/good' | 'test/defect', index: number) => {
  const folder = join(COOKIES, split);
  const name = readdirSync(folder).sort()[index];
  return { name, bytes: readFileSync(join(folder, name)) };
};

export interface TestServer extends RunningServer {
  dataDir: string;
  /** PostgreSQL when the server runs on it (KENSA_TEST_POSTGRES=1), else null. */
  databaseUrl: string | null;
  dispose(): Promise<void>;
}

const postgresOfDataDir = new Map<string, string>();

export async function startTestServer(options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'kensa-server-test-'));
  // KENSA_TEST_POSTGRES=1 runs the same tests on PostgreSQL (a fresh schema per server) with pg-boss jobs.
  let databaseUrl = options.databaseUrl ?? null;
  if (options.databaseUrl === undefined && process.env.KENSA_TEST_POSTGRES === '1') {
    // A restart on the same data folder finds the same database.
    databaseUrl = postgresOfDataDir.get(dataDir) ?? freshPostgresUrl();
    postgresOfDataDir.set(dataDir, databaseUrl);
  }
  const server = await startServer({
    host: '127.0.0.1', port: 0, workers: 1, webDist: null, bootstrapClients: parseBootstrapClients('alice:alice-secret,bob:bob-secret'), ...options, dataDir, databaseUrl,
  });
  return {
    ...server,
    dataDir,
    databaseUrl,
    dispose: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

export class Api {
  token: string | null = null;
  constructor(readonly baseUrl: string, readonly language: 'en' | 'ja' = 'en') {}

  async login(clientId: string, clientSecret: string): Promise<this> {
    const answer = await this.request('POST', '/api/auth/token', { client_id: clientId, client_secret: clientSecret, grant_type: 'client_credentials' });
    if (answer.status !== 200) throw new Error(`login failed: ${JSON.stringify(answer.body)}`);
    this.token = answer.body.data.access_token;
    return this;
  }

  /** A login with a wrong secret, which must be refused; how long the refusal took (ms). */
  async timedFailedLogin(clientId: string): Promise<number> {
    const started = performance.now();
    const answer = await new Api(this.baseUrl).post('/api/auth/token', { client_id: clientId, client_secret: 'guess', grant_type: 'client_credentials' });
    if (answer.status !== 401) throw new Error(`a wrong secret was answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return performance.now() - started;
  }

  withLanguage(language: 'en' | 'ja'): Api {
    const api = new Api(this.baseUrl, language);
    api.token = this.token;
    return api;
  }

  async request(method: string, path: string, body?: unknown, init: { raw?: string; form?: FormData } = {}): Promise<Answer> {
    const headers: Record<string, string> = { 'accept-language': this.language };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: string | FormData | undefined;
    if (init.form) payload = init.form;
    else if (init.raw !== undefined) {
      payload = init.raw;
      headers['content-type'] = 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(this.baseUrl + path, { method, headers, body: payload });
    const text = await response.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  get(path: string) { return this.request('GET', path); }
  post(path: string, body?: unknown) { return this.request('POST', path, body); }

  /** POST /v1/upload with files[i] and form fields. */
  upload(files: { name: string; bytes: Uint8Array }[], fields: Record<string, string> = {}): Promise<Answer> {
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    files.forEach((f, i) => form.append(`files[${i}]`, new Blob([new Uint8Array(f.bytes)]), f.name));
    return this.request('POST', '/api/v1/upload', undefined, { form });
  }

  async waitForModel(modelId: number, timeoutMs = 60_000): Promise<any> {
    const start = Date.now();
    for (;;) {
      const models = await this.get('/api/v1/models');
      const model = models.body.data.find((m: any) => m.model_id === modelId);
      if (model && model.status !== 'creating') return model;
      if (Date.now() - start > timeoutMs) throw new Error(`model ${modelId} still creating: ${JSON.stringify(model)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async waitForItems(itemIds: string[], timeoutMs = 60_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      const items = await this.get('/api/v1/items');
      const all = [...items.body.data.training, ...items.body.data.predict];
      if (itemIds.every((id) => all.find((i: any) => i.item_id === id)?.status === 'done')) return;
      if (Date.now() - start > timeoutMs) throw new Error(`items not done: ${itemIds.join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** PM (Pattern Matching) with a small working size: the quickest way to a real trained model. */
export async function parameterId(api: Api, algorithmId: string, name: string): Promise<number> {
  const algorithms = await api.get('/api/v1/algorithms');
  const algorithm = algorithms.body.data.find((a: any) => a.algorithm_id === algorithmId);
  return algorithm.parameters.find((p: any) => p.name === name).algorithm_parameter_id;
}

/** Trains a PM model at a small working size on the items uploaded for training and waits until it is active; its id. */
export async function trainQuickModel(api: Api, name: string, workingSize = 64): Promise<number> {
  const parameter = await parameterId(api, 'PM', 'working_size');
  const trained = await api.post('/api/v1/train', { algorithm_id: 'PM', name, override_params: [{ algorithm_parameter_id: parameter, value: workingSize }] });
  if (trained.status !== 200) throw new Error(`training refused: ${JSON.stringify(trained.body)}`);
  const model = await api.waitForModel(trained.body.data.model_id);
  if (model.status !== 'active') throw new Error(`model ${name} ended ${model.status}`);
  return model.model_id;
}

/** A loopback port that nothing listens on (a listener was there a moment ago). */
export async function closedPort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Every file under a folder (relative paths) with its size: to show that refused requests change nothing. */
export function folderSnapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else out.push(`${relative(root, path)}:${info.size}`);
    }
  };
  walk(root);
  return out.sort();
}

/** A minimal valid PNG header claiming a size, with real CRCs (no pixel data needed to be refused). */
export function pngHeader(width: number, height: number): Uint8Array {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4); length.writeUInt32BE(data.length);
    const check = Buffer.alloc(4); check.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, check]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', Buffer.from([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])), chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A server in its own process, as under `npm start` (for benchmarks, and for tests that kill it). */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** SIGTERM, resolved when the process has exited. */
  stop(): Promise<void>;
}

export async function spawnServerProcess(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: fileURLToPath(new URL('../../../', import.meta.url)),
    env: { ...process.env, PORT: '0', KENSA_DATA_DIR: dataDir, KENSA_BOOTSTRAP_CLIENT: 'alice:alice-secret', KENSA_WORKERS: '1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  const stop = () => new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
  return { child, url, stop };
}

/** The test machine's PostgreSQL (KENSA_TEST_POSTGRES_URL, default 127.0.0.1:5432/test). */
export const TEST_POSTGRES_URL = process.env.KENSA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A KENSA_DATABASE_URL on a schema of its own, so that test runs never see each other's data. */
export function freshPostgresUrl(): string {
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', `kensa_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`);
  return url.toString();
}

/**
 * Why tests that need PostgreSQL cannot run here (null: they can). Under CI an unreachable PostgreSQL is an
 * error, not a skip: .ci/run makes sure it is up, and these tests must not pass by not running.
 */
export async function postgresSkipReason(): Promise<string | null> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
  let reason: string | null = null;
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    reason = `PostgreSQL at ${TEST_POSTGRES_URL} is unreachable (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    await client.end().catch(() => {});
  }
  if (reason && process.env.CI) throw new Error(`${reason}: under CI the PostgreSQL tests must run`);
  if (reason) console.log(`# ${reason}: tests that need it are skipped`);
  return reason;
}

/** Drops what a test run made in PostgreSQL: the installation's schema and pg-boss's beside it. */
export async function dropPostgresSchema(databaseUrl: string): Promise<void> {
  const { default: pg } = await import('pg');
  const schema = new URL(databaseUrl).searchParams.get('schema');
  if (!schema) return;
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS ${schema}_boss CASCADE`);
  } finally {
    await client.end();
  }
}

/** The Mosquitto broker of this machine kind, for the MQTT tests. */
export const TEST_MQTT_URL = 'mqtt://127.0.0.1:1883';

/** A subscriber connected to TEST_MQTT_URL; when no broker answers, the test is marked skipped and null comes back. */
export async function connectTestMqtt(t: TestContext): Promise<MqttClient | null> {
  const subscriber = mqtt.connect(TEST_MQTT_URL, { connectTimeout: 2000, reconnectPeriod: 0 });
  const connected = await new Promise<boolean>((resolve) => {
    subscriber.once('connect', () => resolve(true));
    subscriber.once('error', () => resolve(false));
    setTimeout(() => resolve(false), 2500);
  });
  if (connected) return subscriber;
  subscriber.end(true);
  t.skip(`no MQTT broker (Mosquitto) on ${TEST_MQTT_URL}`);
  return null;
}

/** Polls `probe` every 200 ms until it gives a value, or fails naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 120_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
