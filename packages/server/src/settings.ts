/**
 * Every setting a Kensa process (API server, worker, the CLI's installation commands) takes from its environment,
 * read and checked once, at start: a wrong value stops the process with a message naming the variable, instead of
 * surfacing later as a NaN port or an odd URL.
 */
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
