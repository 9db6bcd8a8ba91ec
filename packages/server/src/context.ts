import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_MAX_PIXELS } from '@kensa/engine';
import { JobQueue } from './jobs/queue.ts';
import { bossSchemaOf, PgBossTransport } from './jobs/pg-boss-transport.ts';
import { WorkerPool } from './jobs/pool.ts';
import type { OutboundPolicy } from './outbound/address-policy.ts';
import { SamplesService } from './samples/samples.service.ts';
import { AuditExportService } from './services/audit-export.service.ts';
import { AuthService } from './services/auth.service.ts';
import { BulkItemsService } from './services/bulk-items.service.ts';
import { CallbacksService } from './services/callbacks.service.ts';
import { EventsService } from './services/events.service.ts';
import { HealthService } from './services/health.service.ts';
import { ItemsService } from './services/items.service.ts';
import { LicenseService } from './services/license.service.ts';
import { ModelEvaluationService } from './services/model-evaluation.service.ts';
import { ModelsService } from './services/models.service.ts';
import { ModelSignatures } from './services/model-signatures.service.ts';
import { MqttService } from './services/mqtt.service.ts';
import { PreferencesService } from './services/preferences.service.ts';
import { TargetsService } from './services/targets.service.ts';
import { CallbacksRepository } from './store/callbacks.repository.ts';
import { ClientsRepository } from './store/clients.repository.ts';
import { openDatabase, parsePostgresUrl, type Database } from './store/database.ts';
import { DataFolder } from './store/files.ts';
import { ItemsRepository } from './store/items.repository.ts';
import { JobsRepository } from './store/jobs.repository.ts';
import { loadOrCreateKeys } from './store/keys.ts';
import { LoginFailuresRepository } from './store/login-failures.repository.ts';
import { ModelsRepository } from './store/models.repository.ts';
import { PreferencesRepository } from './store/preferences.repository.ts';
import { SampleProjectsRepository } from './store/sample-projects.repository.ts';
import { TargetsRepository } from './store/targets.repository.ts';
import { TempFiles } from './store/temp-files.ts';

export interface UploadLimits {
  /** Bytes per uploaded file. */
  maxFileBytes: number;
  maxFilesPerRequest: number;
  /** Pixels per image (width × height). */
  maxPixels: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 50_000_000, maxFilesPerRequest: 200, maxPixels: DEFAULT_MAX_PIXELS };

/**
 * The installation without HTTP: database, files, keys and services (what the CLI uses directly). Every
 * repository and service is built here, once; routes only call them.
 */
export interface Installation {
  db: Database;
  files: DataFolder;
  temp: TempFiles;
  auth: AuthService;
  licenses: LicenseService;
  items: ItemsService;
  bulkItems: BulkItemsService;
  auditExport: AuditExportService;
  models: ModelsService;
  modelEvaluation: ModelEvaluationService;
  events: EventsService;
  callbacks: CallbacksService;
  targets: TargetsService;
  preferences: PreferencesService;
  mqtt: MqttService;
  modelSignatures: ModelSignatures;
  samples: SamplesService;
  health: HealthService;
  close(): Promise<void>;
}

export interface InstallationOptions {
  /** PostgreSQL instead of the data folder's SQLite file (KENSA_DATABASE_URL); null: SQLite. */
  databaseUrl?: string | null;
  /** Images and models in S3 or a shared folder (KENSA_BLOB_URL: s3://bucket?endpoint=…, file:///path); null: the data folder. */
  blobUrl?: string | null;
  /** Broker for targets without their own (KENSA_MQTT_URL); null: none. */
  mqttUrl?: string | null;
  /** Waits before callback retries (ms); tests shorten them. */
  callbackRetryDelaysMs?: number[];
  /** Callbacks and MQTT brokers may be on loopback, private and link-local addresses (KENSA_ALLOW_PRIVATE_TARGETS=1). */
  allowPrivateTargets?: boolean;
}

/**
 * The data folder holds the database (with the installation's keys), uploaded images and models: 0700, the
 * server's user only. Made so, and an existing folder narrowed (an installation from before this was 0755);
 * a folder this user does not own (a mounted volume) is left as it is.
 */
function makePrivateFolder(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const info = statSync(root);
  if ((info.mode & 0o077) !== 0 && info.uid === process.getuid?.()) chmodSync(root, 0o700);
  // Keys of installations from before keys moved into the database.
  const legacyKeys = join(root, 'keys');
  if (existsSync(legacyKeys)) {
    chmodSync(legacyKeys, 0o700);
    for (const name of readdirSync(legacyKeys)) chmodSync(join(legacyKeys, name), 0o600);
  }
}

export async function openInstallation(dataDir: string, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS, options: InstallationOptions = {}): Promise<Installation> {
  const root = resolve(dataDir);
  makePrivateFolder(root);
  const temp = new TempFiles(root);
  const files = new DataFolder(root, options.blobUrl ?? null, temp);
  const db = await openDatabase({ dataDir: root, url: options.databaseUrl ?? null });
  let events: EventsService | null = null;
  try {
    const keys = await loadOrCreateKeys(db, root);
    const clients = new ClientsRepository(db);
    const itemsRepository = new ItemsRepository(db);
    const modelsRepository = new ModelsRepository(db);
    const licenses = new LicenseService(clients, keys.licensePublicKey, keys.licensePrivateKey);
    const shared = new EventsService();
    events = shared;
    if (options.databaseUrl) {
      const { connectionString, schema } = parsePostgresUrl(options.databaseUrl);
      await shared.connectPostgres(connectionString, schema, async (channel, payload) => {
        await db.execute('SELECT pg_notify($1, $2)', [channel, payload]);
      });
    }
    const outbound: OutboundPolicy = { allowPrivate: options.allowPrivateTargets ?? false };
    const operatorLog = (text: string) => process.stderr.write(`${text}\n`);
    const callbacks = new CallbacksService(new CallbacksRepository(db), modelsRepository, outbound, options.callbackRetryDelaysMs, operatorLog);
    const targets = new TargetsService(new TargetsRepository(db), outbound, options.mqttUrl ?? null);
    const mqttService = new MqttService(targets, outbound, operatorLog);
    const items = new ItemsService(itemsRepository, modelsRepository, files, targets, limits.maxPixels);
    const models = new ModelsService(modelsRepository, itemsRepository, files, licenses, shared, callbacks, targets, mqttService);
    const samples = new SamplesService(new SampleProjectsRepository(db), licenses, targets, items, models, temp);
    return {
      db,
      files,
      temp,
      auth: new AuthService(clients, new LoginFailuresRepository(db), keys.tokenSecret),
      licenses,
      items,
      bulkItems: new BulkItemsService(itemsRepository, targets),
      auditExport: new AuditExportService(itemsRepository, targets),
      models,
      modelEvaluation: new ModelEvaluationService(modelsRepository, itemsRepository),
      events: shared,
      callbacks,
      targets,
      preferences: new PreferencesService(new PreferencesRepository(db), targets),
      mqtt: mqttService,
      modelSignatures: new ModelSignatures(keys.modelPrivateKey, keys.modelPublicKey),
      samples,
      health: new HealthService(db.kind, new JobsRepository(db), shared),
      close: async () => {
        // Running sample projects stop at their next step.
        samples.stop();
        callbacks.close();
        await shared.close();
        await mqttService.close();
        await db.close();
        await files.close();
      },
    };
  } catch (error) {
    await events?.close();
    await db.close();
    await files.close();
    throw error;
  }
}

/** The installation plus its running job queue on a worker pool. */
export interface RunningInstallation extends Installation {
  queue: JobQueue;
  pool: WorkerPool;
  stop(): Promise<void>;
}

export interface RunOptions extends InstallationOptions {
  /** Worker threads (default: one per core). */
  workers?: number;
  limits?: UploadLimits;
  /** Run queued jobs (train, predict) in this process; false: an API server only (scale-out). */
  runQueuedJobs?: boolean;
  /** A job's lease (ms): how soon another worker takes over the job of a worker that died. */
  jobLeaseMs?: number;
}

export async function startInstallation(dataDir: string, options: RunOptions = {}): Promise<RunningInstallation> {
  const installation = await openInstallation(dataDir, options.limits, options);
  let pool: WorkerPool | null = null;
  let transport: PgBossTransport | undefined;
  try {
    installation.temp.clearLeftovers();
    installation.files.removeStaleCaches();
    const runQueuedJobs = options.runQueuedJobs ?? true;
    transport = options.databaseUrl
      ? await PgBossTransport.open(parsePostgresUrl(options.databaseUrl).connectionString, installation.db, bossSchemaOf(parsePostgresUrl(options.databaseUrl).schema))
      : undefined;
    // An API server alone still answers synchronous inspections and model imports: one thread is enough for those.
    pool = new WorkerPool(runQueuedJobs ? options.workers : Math.min(options.workers ?? 1, 1));
    const queue = new JobQueue(installation.db, new JobsRepository(installation.db), pool, {
      train: installation.models.trainJob,
      predict: installation.models.predictJob,
    }, { runQueuedJobs, transport, leaseMs: options.jobLeaseMs });
    installation.models.attachQueue(queue);
    if (options.databaseUrl) installation.models.shareInspectHeatmaps();
    await queue.start();
    installation.callbacks.start();
    return {
      ...installation,
      queue,
      pool,
      stop: async () => {
        // Sample projects first: they drive jobs, and stop at their next step.
        installation.samples.stop();
        await queue.close();
        await installation.close();
      },
    };
  } catch (error) {
    // Nothing may keep the process alive after a failed start (worker threads, pg-boss's timers).
    await pool?.close();
    await transport?.close().catch(() => {});
    await installation.close();
    throw error;
  }
}

