/** @kensa/server: the HTTP API, and the installation functions the CLI uses. */
import type { AddressInfo } from 'node:net';
import { buildApp, type AppConfig } from './app.ts';
import { ensureClients, parseBootstrapClients, type ClientCredentials } from './bootstrap.ts';
import { openInstallation } from './context.ts';
import type { LicenseLimits } from './services/license.service.ts';
import { ClientsRepository } from './store/clients.repository.ts';

export { buildApp, type AppConfig } from './app.ts';
export { parseBootstrapClients, type ClientCredentials } from './bootstrap.ts';
export type { LicenseLimits } from './services/license.service.ts';
export { SERVER_VERSION } from './version.ts';

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
  logger?: boolean;
  /** Broker for finished predictions of targets without their own (KENSA_MQTT_URL). */
  mqttUrl?: string | null;
  /** Waits before callback retries (ms). */
  callbackRetryDelaysMs?: number[];
  /** PostgreSQL (KENSA_DATABASE_URL) instead of the data folder's SQLite file. */
  databaseUrl?: string | null;
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
  const { app, kensa } = await buildApp({
    dataDir: options.dataDir, workers: options.workers, limits: options.limits, webDist: options.webDist, logger: options.logger,
    mqttUrl: options.mqttUrl, callbackRetryDelaysMs: options.callbackRetryDelaysMs,
    databaseUrl: options.databaseUrl, runQueuedJobs: options.runQueuedJobs, jobLeaseMs: options.jobLeaseMs,
  });
  try {
    const clients = typeof options.bootstrapClients === 'string' ? parseBootstrapClients(options.bootstrapClients) : options.bootstrapClients ?? [];
    const repository = new ClientsRepository(kensa.db);
    const createdClient = await ensureClients(kensa, clients, () => repository.count());
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
