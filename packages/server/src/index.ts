/** @kensa/server: the HTTP API, and the installation functions the CLI uses. */
import type { AddressInfo } from 'node:net';
import { buildApp } from './app.ts';
import { ensureClients, type ClientCredentials } from './bootstrap.ts';
import { openContext, startContext } from './context.ts';
import type { LicenseLimits } from './services/license.service.ts';
import { completeSettings, type ServerOptions, type Settings } from './settings.ts';

export { buildApp } from './app.ts';
export { parseBootstrapClients, type ClientCredentials } from './bootstrap.ts';
export type { LicenseLimits } from './services/license.service.ts';
export { SERVER_VERSION } from './version.ts';
export {
  readSettings, parsePort, parsePositiveInteger, DEFAULT_DATA_DIR, DEFAULT_HTTP_TIMEOUTS, type Settings, type ServerOptions, type HttpTimeouts,
} from './settings.ts';

export interface RunningServer {
  url: string;
  /** Credentials of the client made on a first start without bootstrap clients (show once), else null. */
  createdClient: ClientCredentials | null;
  close(): Promise<void>;
}

/** Starts the API: database migrated, clients ensured, job queue recovered, listening. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const settings = completeSettings(options);
  if (!settings.runQueuedJobs && !settings.databaseUrl) {
    throw new Error('an API server without workers needs a shared database (KENSA_DATABASE_URL=postgres://…) where workers find its jobs');
  }
  const { app, kensa } = await buildApp(settings);
  try {
    const createdClient = await ensureClients(kensa, settings.bootstrapClients, () => kensa.auth.countClients());
    await app.listen({ host: settings.host, port: settings.port });
    const address = app.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return { url: `http://${host}:${address.port}`, createdClient, close: () => app.close() };
  } catch (error) {
    await app.close();
    throw error;
  }
}

/** The settings the CLI's installation commands open a data folder (or PostgreSQL) with. */
type InstallationOptions = Pick<Settings, 'dataDir'> & Partial<Pick<Settings, 'databaseUrl'>>;

/** Creates a client (random id/secret unless given) in a data folder; returns the credentials. */
export async function createClient(options: InstallationOptions & { clientId?: string; clientSecret?: string }): Promise<ClientCredentials> {
  const kensa = await openContext(completeSettings({ dataDir: options.dataDir, databaseUrl: options.databaseUrl }));
  try {
    return await kensa.auth.createClient(options.clientId, options.clientSecret);
  } finally {
    await kensa.close();
  }
}

/** Writes nothing: returns the text of a license file signed with the installation's key. */
export async function issueLicense(options: InstallationOptions & { clientId: string; days: number; limits?: Partial<LicenseLimits> }): Promise<string> {
  if (!Number.isFinite(options.days) || options.days <= 0) throw new Error(`days must be a positive number, got ${options.days}`);
  const kensa = await openContext(completeSettings({ dataDir: options.dataDir, databaseUrl: options.databaseUrl }));
  try {
    return kensa.licenses.issue(options.clientId, options.days, options.limits);
  } finally {
    await kensa.close();
  }
}

/** `kensa worker`: runs training and prediction jobs of a scale-out installation, without HTTP. */
export async function startWorker(options: ServerOptions): Promise<{ workerId: string; close(): Promise<void> }> {
  if (!options.databaseUrl) throw new Error('a worker needs the installation\'s database: set KENSA_DATABASE_URL=postgres://… (kensa serve runs its own workers)');
  const kensa = await startContext(completeSettings({ ...options, runQueuedJobs: true }));
  return { workerId: kensa.queue.workerId, close: () => kensa.stop() };
}

export { moveInstallation, type MoveReport } from './store/move-installation.ts';
