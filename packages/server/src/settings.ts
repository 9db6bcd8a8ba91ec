/**
 * Everything a Kensa process (API server, worker, the CLI's installation commands) is set up with, in one place:
 * the settings it takes from its environment, read and checked once, at start (a wrong value stops the process
 * with a message naming the variable, instead of surfacing later as a NaN port or an odd URL), and the few that
 * only code gives (tests, benchmarks, `kensa serve --no-workers`). Each layer takes the settings it needs from
 * these types; none reads the environment.
 */
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_PIXELS } from '@kensa/engine';
import { parseBootstrapClients, type ClientCredentials } from './bootstrap.ts';
import { parsePublicUrl } from './http/public-url.ts';

export interface Settings {
  /** KENSA_DATA_DIR: the installation's folder (SQLite file, keys, images unless KENSA_BLOB_URL). */
  dataDir: string;
  /** HOST */
  host: string;
  /** PORT: 0 = a free port. */
  port: number;
  /** KENSA_WORKERS: job threads; undefined = one per core. */
  workers: number | undefined;
  /** KENSA_BOOTSTRAP_CLIENT=id:secret[,id:secret…]: clients to create or keep at start. */
  bootstrapClients: ClientCredentials[];
  /** KENSA_MQTT_URL: broker for targets without their own. */
  mqttUrl: string | null;
  /** KENSA_DATABASE_URL: PostgreSQL instead of the data folder's SQLite file. */
  databaseUrl: string | null;
  /** KENSA_BLOB_URL: S3 or a shared folder for images and models. */
  blobUrl: string | null;
  /** KENSA_JOB_LEASE_MS (at least 1000); undefined = the queue's default. */
  jobLeaseMs: number | undefined;
  /** KENSA_ALLOW_PRIVATE_TARGETS=1 */
  allowPrivateTargets: boolean;
  /** KENSA_PUBLIC_URL: the start of image URLs in answers. */
  publicUrl: string | null;
  /** KENSA_TRUST_PROXY=1 */
  trustProxy: boolean;
  /** KENSA_LOG=1: log every request. */
  logger: boolean;
}

export const DEFAULT_DATA_DIR = './data';
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;

export interface UploadLimits {
  /** Bytes per uploaded file. */
  maxFileBytes: number;
  maxFilesPerRequest: number;
  /** Pixels per image (width × height). */
  maxPixels: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 50_000_000, maxFilesPerRequest: 200, maxPixels: DEFAULT_MAX_PIXELS };

/** Limits on slow clients: a connection that stalls is closed and its partial upload removed. */
export interface HttpTimeouts {
  /** The request line and headers must arrive within this (ms). */
  headersMs: number;
  /** The whole request, body included (ms): a large upload on a slow line must fit. */
  requestMs: number;
  /** A request body (an upload) that sends nothing for this long is given up (ms). */
  bodyIdleMs: number;
}

export const DEFAULT_HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 30_000, requestMs: 600_000, bodyIdleMs: 30_000 };

const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/** What no environment variable sets: code gives it (tests, benchmarks, `kensa serve --no-workers`), or the default. */
export interface RuntimeSettings {
  /** Run training and prediction jobs in this process; false: an API server only (scale-out). */
  runQueuedJobs: boolean;
  limits: UploadLimits;
  timeouts: HttpTimeouts;
  /** The built web UI served at `/`; default packages/web/dist when it exists; null: none. */
  webDist: string | null;
  /** Where log lines go (one JSON object a line); default standard output. */
  logStream?: { write(line: string): void };
  /** Waits before callback retries (ms); default the outbox's schedule (tests shorten it). */
  callbackRetryDelaysMs?: number[];
}

/** Everything a server or a worker runs with. */
export type ServerSettings = Settings & RuntimeSettings;

/** What code gives to start a server or a worker: its data folder, and whatever differs from the defaults. */
export type ServerOptions = Pick<Settings, 'dataDir'> & Partial<Omit<Settings, 'dataDir'>>
  & Partial<Omit<RuntimeSettings, 'limits' | 'timeouts'>> & { limits?: Partial<UploadLimits>; timeouts?: Partial<HttpTimeouts> };

/** The settings code gave, completed with the defaults (an option given as undefined takes its default too). */
export function completeSettings(options: ServerOptions): ServerSettings {
  return {
    dataDir: options.dataDir,
    host: options.host ?? DEFAULT_HOST,
    port: options.port ?? DEFAULT_PORT,
    workers: options.workers,
    bootstrapClients: options.bootstrapClients ?? [],
    mqttUrl: options.mqttUrl ?? null,
    databaseUrl: options.databaseUrl ?? null,
    blobUrl: options.blobUrl ?? null,
    jobLeaseMs: options.jobLeaseMs,
    allowPrivateTargets: options.allowPrivateTargets ?? false,
    publicUrl: parsePublicUrl(options.publicUrl),
    trustProxy: options.trustProxy ?? false,
    logger: options.logger ?? false,
    runQueuedJobs: options.runQueuedJobs ?? true,
    limits: { ...DEFAULT_UPLOAD_LIMITS, ...options.limits },
    timeouts: { ...DEFAULT_HTTP_TIMEOUTS, ...options.timeouts },
    webDist: options.webDist === undefined ? DEFAULT_WEB_DIST : options.webDist,
    logStream: options.logStream,
    callbackRetryDelaysMs: options.callbackRetryDelaysMs,
  };
}

/** A port number 0–65535 from text; throws naming `name` (an env variable or a flag) otherwise. */
export function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (value.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number (0–65535), got "${value}"`);
  return port;
}

/** A positive integer from text, or undefined for none; throws naming `name` otherwise. */
export function parsePositiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name} must be a positive integer, got "${value}"`);
  return number;
}

/** Reads and checks the settings; throws an Error naming the first variable with a wrong value. */
export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const lease = env.KENSA_JOB_LEASE_MS ? Number(env.KENSA_JOB_LEASE_MS) : undefined;
  if (lease !== undefined && (!Number.isFinite(lease) || lease < 1000)) throw new Error(`KENSA_JOB_LEASE_MS must be at least 1000, got ${env.KENSA_JOB_LEASE_MS}`);
  return {
    dataDir: env.KENSA_DATA_DIR ?? DEFAULT_DATA_DIR,
    host: env.HOST ?? DEFAULT_HOST,
    port: env.PORT === undefined ? DEFAULT_PORT : parsePort(env.PORT, 'PORT'),
    workers: parsePositiveInteger(env.KENSA_WORKERS, 'KENSA_WORKERS'),
    bootstrapClients: parseBootstrapClients(env.KENSA_BOOTSTRAP_CLIENT),
    mqttUrl: env.KENSA_MQTT_URL || null,
    databaseUrl: env.KENSA_DATABASE_URL || null,
    blobUrl: env.KENSA_BLOB_URL || null,
    jobLeaseMs: lease,
    allowPrivateTargets: env.KENSA_ALLOW_PRIVATE_TARGETS === '1',
    publicUrl: parsePublicUrl(env.KENSA_PUBLIC_URL),
    trustProxy: env.KENSA_TRUST_PROXY === '1',
    logger: env.KENSA_LOG === '1',
  };
}
