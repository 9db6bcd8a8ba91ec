import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MAX_PIXELS } from '@kensa/engine';
import { JobQueue } from './jobs/queue.ts';
import { WorkerPool } from './jobs/pool.ts';
import { AuthService } from './services/auth.service.ts';
import { CallbacksService } from './services/callbacks.service.ts';
import { EventsService } from './services/events.service.ts';
import { ItemsService } from './services/items.service.ts';
import { LicenseService } from './services/license.service.ts';
import { ModelsService } from './services/models.service.ts';
import { MqttService } from './services/mqtt.service.ts';
import { TargetsService } from './services/targets.service.ts';
import { ClientsRepository } from './store/clients.repository.ts';
import { openDatabase, type Db } from './store/database.ts';
import { DataFolder } from './store/files.ts';
import { ItemsRepository } from './store/items.repository.ts';
import { JobsRepository } from './store/jobs.repository.ts';
import { loadOrCreateKeys } from './store/keys.ts';
import { ModelsRepository } from './store/models.repository.ts';
import { TargetsRepository } from './store/targets.repository.ts';

export interface UploadLimits {
  /** Bytes per uploaded file. */
  maxFileBytes: number;
  maxFilesPerRequest: number;
  /** Pixels per image (width × height). */
  maxPixels: number;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = { maxFileBytes: 50_000_000, maxFilesPerRequest: 200, maxPixels: DEFAULT_MAX_PIXELS };

/** The installation without HTTP: database, files, keys and services (what the CLI uses directly). */
export interface Installation {
  db: Db;
  files: DataFolder;
  auth: AuthService;
  licenses: LicenseService;
  items: ItemsService;
  models: ModelsService;
  events: EventsService;
  callbacks: CallbacksService;
  targets: TargetsService;
  mqtt: MqttService;
  close(): Promise<void>;
}

export interface InstallationOptions {
  /** Broker for targets without their own (KENSA_MQTT_URL); null: none. */
  mqttUrl?: string | null;
  /** Waits before callback retries (ms); tests shorten them. */
  callbackRetryDelaysMs?: number[];
}

export function openInstallation(dataDir: string, limits: UploadLimits = DEFAULT_UPLOAD_LIMITS, options: InstallationOptions = {}): Installation {
  const root = resolve(dataDir);
  mkdirSync(root, { recursive: true });
  const files = new DataFolder(root);
  const db = openDatabase(root);
  const keys = loadOrCreateKeys(root);
  const clients = new ClientsRepository(db);
  const itemsRepository = new ItemsRepository(db);
  const modelsRepository = new ModelsRepository(db);
  const licenses = new LicenseService(clients, keys.licensePublicKey, keys.licensePrivateKey);
  const events = new EventsService();
  const callbacks = new CallbacksService(db, options.callbackRetryDelaysMs);
  const targets = new TargetsService(new TargetsRepository(db), options.mqttUrl ?? null);
  const mqttService = new MqttService(targets, (text) => process.stderr.write(`${text}\n`));
  return {
    db,
    files,
    auth: new AuthService(clients, keys.tokenSecret),
    licenses,
    items: new ItemsService(itemsRepository, modelsRepository, files, targets, limits.maxPixels),
    models: new ModelsService(modelsRepository, itemsRepository, files, licenses, events, callbacks, targets, mqttService),
    events,
    callbacks,
    targets,
    mqtt: mqttService,
    close: async () => {
      callbacks.close();
      await mqttService.close();
      db.close();
    },
  };
}

/** The installation plus its running job queue on a worker pool. */
export interface RunningInstallation extends Installation {
  queue: JobQueue;
  pool: WorkerPool;
  stop(): Promise<void>;
}

export function startInstallation(dataDir: string, options: { workers?: number; limits?: UploadLimits } & InstallationOptions = {}): RunningInstallation {
  const installation = openInstallation(dataDir, options.limits, options);
  installation.files.removeTemporaryFiles();
  const pool = new WorkerPool(options.workers);
  const queue = new JobQueue(new JobsRepository(installation.db), pool, {
    train: installation.models.trainJob,
    predict: installation.models.predictJob,
  });
  installation.models.attachQueue(queue);
  queue.recover();
  installation.callbacks.start();
  return {
    ...installation,
    queue,
    pool,
    stop: async () => {
      await queue.close();
      await installation.close();
    },
  };
}
