/** @kensa/server: the HTTP API, and the installation functions the CLI uses. */
import type { AddressInfo } from 'node:net';
import { buildApp, type AppConfig } from './app.ts';
import { ensureClients, parseBootstrapClients, type ClientCredentials } from './bootstrap.ts';
import { openInstallation, startInstallation } from './context.ts';
import type { LicenseLimits } from './services/license.service.ts';

export { buildApp, DEFAULT_HTTP_TIMEOUTS, type AppConfig, type HttpTimeouts } from './app.ts';
export { parseBootstrapClients, type ClientCredentials } from './bootstrap.ts';
export type { LicenseLimits } from './services/license.service.ts';
export { SERVER_VERSION } from './version.ts';
export { readSettings, parsePort, parsePositiveInteger, DEFAULT_DATA_DIR, type Settings } from './settings.ts';

export interface StartOptions {
  dataDir: string;
  host?: string;
  /** 0 = a free port. */
  port?: number;
  /** Clients to create or keep, each with an active licence: a list or the `id:secret,…` text. */
  bootstrapClients?: ClientCredentials[] | string;
  workers?: number;
  limits?: AppConfig['limits'];
  webDist?: string | null;
  /** Log every request (KENSA_LOG=1); errors are logged always. */
  logger?: boolean;
  logStream?: AppConfig['logStream'];
  /** KENSA_PUBLIC_URL: the start of image URLs in answers (the Host header is then never used). */
  publicUrl?: string | null;
  timeouts?: AppConfig['timeouts'];
  /** Broker for finished predictions of targets without their own (KENSA_MQTT_URL). */
  mqttUrl?: string | null;
  /** Waits before callback retries (ms). */
  callbackRetryDelaysMs?: number[];
  /** Callbacks and MQTT brokers may be on loopback, private and link-local addresses (KENSA_ALLOW_PRIVATE_TARGETS=1). */
  allowPrivateTargets?: boolean;
  /** PostgreSQL (KENSA_DATABASE_URL) instead of the data folder's SQLite file. */
  databaseUrl?: string | null;
  /** S3 or a shared folder for images and models (KENSA_BLOB_URL) instead of the data folder. */
  blobUrl?: string | null;
  /** Behind a load balancer: take the client's protocol and host from X-Forwarded-* (KENSA_TRUST_PROXY=1), for image URLs. */
  trustProxy?: boolean;
  /** Run training and prediction jobs in this process (default); false: an API server only. */
  runQueuedJobs?: boolean;
  jobLeaseMs?: number;
}

export interface RunningServer {
  url: string;
  /** Credentials of the client made on a first start without bootstrap clients (show once), else null. */
  createdClient: ClientCredentials | null;
  close(): Promise<void>;
}

/** Starts the API: database migrated, clients ensured, job queue recovered, listening. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  if (options.runQueuedJobs === false && !options.databaseUrl) {
    throw new Error('an API server without workers needs a shared database (KENSA_DATABASE_URL=postgres://…) where workers find its jobs');
  }
  const { app, kensa } = await buildApp({
    dataDir: options.dataDir, workers: options.workers, limits: options.limits, webDist: options.webDist, logger: options.logger,
    mqttUrl: options.mqttUrl, callbackRetryDelaysMs: options.callbackRetryDelaysMs, allowPrivateTargets: options.allowPrivateTargets,
    databaseUrl: options.databaseUrl, blobUrl: options.blobUrl, runQueuedJobs: options.runQueuedJobs, jobLeaseMs: options.jobLeaseMs,
    trustProxy: options.trustProxy, publicUrl: options.publicUrl, logStream: options.logStream, timeouts: options.timeouts,
  });
  try {
    const clients = typeof options.bootstrapClients === 'string' ? parseBootstrapClients(options.bootstrapClients) : options.bootstrapClients ?? [];
    const createdClient = await ensureClients(kensa, clients, () => kensa.auth.countClients());
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 8080 });
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { url: `http://${host}:${address.port}`, createdClient, close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** Creates a client (random id/secret unless given) in a data folder; returns the credentials. */
export async function createClient(options: { dataDir: string; clientId?: string; clientSecret?: string; databaseUrl?: string | null }): Promise<ClientCredentials> {
  const kensa = await openInstallation(options.dataDir, undefined, { databaseUrl: options.databaseUrl });
  try {
    return await kensa.auth.createClient(options.clientId, options.clientSecret);
  } finally {
    await kensa.close();
  }
}

/** Writes nothing: returns the text of a licence file signed with the installation's key. */
export async function issueLicense(options: { dataDir: string; clientId: string; days: number; limits?: Partial<LicenseLimits>; databaseUrl?: string | null }): Promise<string> {
  if (!Number.isFinite(options.days) || options.days <= 0) throw new Error(`days must be a positive number, got ${options.days}`);
  const kensa = await openInstallation(options.dataDir, undefined, { databaseUrl: options.databaseUrl });
  try {
    return kensa.licenses.issue(options.clientId, options.days, options.limits);
  } finally {
    await kensa.close();
  }
}

export interface WorkerOptions {
  dataDir: string;
  /** Required: workers take their jobs from the installation's PostgreSQL. */
  databaseUrl: string;
  blobUrl?: string | null;
  /** Jobs run at once (worker threads); default: one per core. */
  concurrency?: number;
  mqttUrl?: string | null;
  jobLeaseMs?: number;
  allowPrivateTargets?: boolean;
}

/** `kensa worker`: runs training and prediction jobs of a scale-out installation, without HTTP. */
export async function startWorker(options: WorkerOptions): Promise<{ workerId: string; close(): Promise<void> }> {
  if (!options.databaseUrl) throw new Error('a worker needs the installation\'s database: set KENSA_DATABASE_URL=postgres://… (kensa serve runs its own workers)');
  const kensa = await startInstallation(options.dataDir, {
    workers: options.concurrency, databaseUrl: options.databaseUrl, blobUrl: options.blobUrl, mqttUrl: options.mqttUrl,
    jobLeaseMs: options.jobLeaseMs, runQueuedJobs: true, allowPrivateTargets: options.allowPrivateTargets,
  });
  return { workerId: kensa.queue.workerId, close: () => kensa.stop() };
}

export { moveInstallation, type MoveReport } from './store/move-installation.ts';
