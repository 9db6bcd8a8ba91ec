import { chmodSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JobQueue } from './jobs/queue.ts';
import { bossSchemaOf, PgBossTransport } from './jobs/pg-boss-transport.ts';
import { WorkerPool } from './jobs/pool.ts';
import type { OutboundPolicy } from './outbound/address-policy.ts';
import { SamplesService } from './samples/samples.service.ts';
import { AnnouncementsService } from './services/announcements.service.ts';
import { AuditExportService } from './services/audit-export.service.ts';
import { AuthService } from './services/auth.service.ts';
import { BulkItemsService } from './services/bulk-items.service.ts';
import { CallbacksService } from './services/callbacks.service.ts';
import { EventsService } from './services/events.service.ts';
import { HealthService } from './services/health.service.ts';
import { openInspectHeatmaps } from './services/inspect-heatmaps.ts';
import { InspectionService } from './services/inspection.service.ts';
import { ItemsService } from './services/items.service.ts';
import { JobsService } from './services/jobs.service.ts';
import { LicenseUsageService } from './services/license-usage.service.ts';
import { LicenseService } from './services/license.service.ts';
import { ModelEvaluationService } from './services/model-evaluation.service.ts';
import { ModelsService } from './services/models.service.ts';
import { ModelSignatures } from './services/model-signatures.service.ts';
import { MqttService } from './services/mqtt.service.ts';
import { PredictJob } from './services/prediction.job.ts';
import { PredictionService } from './services/prediction.service.ts';
import { PreferencesService } from './services/preferences.service.ts';
import { TargetsService } from './services/targets.service.ts';
import type { ServerSettings } from './settings.ts';
import { TrainJob } from './services/training.job.ts';
import { TrainingService } from './services/training.service.ts';
import { CallbacksRepository } from './store/callbacks.repository.ts';
import { ClientsRepository } from './store/clients.repository.ts';
import { openDatabase, parsePostgresUrl, type Database } from './store/database.ts';
import { FileStore } from './store/files.ts';
import { ItemsRepository } from './store/items.repository.ts';
import { JobsRepository } from './store/jobs.repository.ts';
import { loadOrCreateKeys } from './store/keys.ts';
import { LoginFailuresRepository } from './store/login-failures.repository.ts';
import { ModelsRepository } from './store/models.repository.ts';
import { PreferencesRepository } from './store/preferences.repository.ts';
import { SampleProjectsRepository } from './store/sample-projects.repository.ts';
import { TargetsRepository } from './store/targets.repository.ts';
import { TempFiles } from './store/temp-files.ts';

/**
 * What serves an installation, without HTTP and jobs: database, files, keys and the services that need no worker
 * (what the CLI uses directly). Every repository and service is built in this file, once; routes only call them.
 */
export interface ServerContext {
  db: Database;
  files: FileStore;
  temp: TempFiles;
  auth: AuthService;
  licenses: LicenseService;
  licenseUsage: LicenseUsageService;
  items: ItemsService;
  bulkItems: BulkItemsService;
  auditExport: AuditExportService;
  modelEvaluation: ModelEvaluationService;
  events: EventsService;
  callbacks: CallbacksService;
  targets: TargetsService;
  preferences: PreferencesService;
  mqtt: MqttService;
  modelSignatures: ModelSignatures;
  health: HealthService;
  close(): Promise<void>;
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

export async function openContext(settings: ServerSettings): Promise<ServerContext> {
  return (await open(settings)).context;
}

/** The context and the repositories the job-driven services are built on (in startContext). */
async function open(settings: ServerSettings) {
  const root = resolve(settings.dataDir);
  makePrivateFolder(root);
  const temp = new TempFiles(root);
  const files = new FileStore(root, settings.blobUrl);
  const db = await openDatabase({ dataDir: root, url: settings.databaseUrl });
  let events: EventsService | null = null;
  try {
    const keys = await loadOrCreateKeys(db, root);
    const clients = new ClientsRepository(db);
    const itemsRepository = new ItemsRepository(db);
    const modelsRepository = new ModelsRepository(db);
    const licenses = new LicenseService(clients, keys.licensePublicKey, keys.licensePrivateKey);
    const shared = new EventsService();
    events = shared;
    if (settings.databaseUrl) {
      const { connectionString, schema } = parsePostgresUrl(settings.databaseUrl);
      await shared.connectPostgres(connectionString, schema, async (channel, payload) => {
        await db.execute('SELECT pg_notify($1, $2)', [channel, payload]);
      });
    }
    const outbound: OutboundPolicy = { allowPrivate: settings.allowPrivateTargets };
    const operatorLog = (text: string) => process.stderr.write(`${text}\n`);
    const callbacks = new CallbacksService(new CallbacksRepository(db), modelsRepository, outbound, settings.callbackRetryDelaysMs, operatorLog);
    const targets = new TargetsService(new TargetsRepository(db), outbound, settings.mqttUrl);
    const mqttService = new MqttService(targets, outbound, operatorLog);
    const context: ServerContext = {
      db,
      files,
      temp,
      auth: new AuthService(clients, new LoginFailuresRepository(db), keys.tokenSecret),
      licenses,
      licenseUsage: new LicenseUsageService(modelsRepository, itemsRepository),
      items: new ItemsService(itemsRepository, modelsRepository, files, targets, settings.limits.maxPixels),
      bulkItems: new BulkItemsService(itemsRepository, targets),
      auditExport: new AuditExportService(itemsRepository, targets),
      modelEvaluation: new ModelEvaluationService(modelsRepository, itemsRepository),
      events: shared,
      callbacks,
      targets,
      preferences: new PreferencesService(new PreferencesRepository(db), targets),
      mqtt: mqttService,
      modelSignatures: new ModelSignatures(keys.modelPrivateKey, keys.modelPublicKey),
      health: new HealthService(db.kind, new JobsRepository(db), shared),
      close: async () => {
        callbacks.close();
        await shared.close();
        await mqttService.close();
        await db.close();
        await files.close();
      },
    };
    return { context, repositories: { models: modelsRepository, items: itemsRepository } };
  } catch (error) {
    await events?.close();
    await db.close();
    await files.close();
    throw error;
  }
}

/** The context plus its running job queue on a worker pool, and the services that queue or run jobs. */
export interface RunningContext extends ServerContext {
  queue: JobQueue;
  pool: WorkerPool;
  models: ModelsService;
  training: TrainingService;
  prediction: PredictionService;
  inspection: InspectionService;
  jobs: JobsService;
  samples: SamplesService;
  stop(): Promise<void>;
}

export async function startContext(settings: ServerSettings): Promise<RunningContext> {
  const { context, repositories } = await open(settings);
  let pool: WorkerPool | null = null;
  let transport: PgBossTransport | undefined;
  try {
    context.temp.clearLeftovers();
    context.files.removeStaleCaches();
    const { runQueuedJobs } = settings;
    transport = settings.databaseUrl
      ? await PgBossTransport.open(parsePostgresUrl(settings.databaseUrl).connectionString, context.db, bossSchemaOf(parsePostgresUrl(settings.databaseUrl).schema))
      : undefined;
    // An API server alone still answers synchronous inspections and model imports: one thread is enough for those.
    pool = new WorkerPool(runQueuedJobs ? settings.workers : Math.min(settings.workers ?? 1, 1));
    const { models, items } = repositories;
    const { db, files, temp, licenses, licenseUsage, targets } = context;
    const announce = new AnnouncementsService(models, items, context.events, context.callbacks, targets, context.mqtt);
    const queue = new JobQueue(db, new JobsRepository(db), pool, {
      train: new TrainJob(models, items, files, temp, announce),
      predict: new PredictJob(models, items, files, temp, announce),
    }, { runQueuedJobs, transport, leaseMs: settings.jobLeaseMs });
    const prediction = new PredictionService(models, items, licenses, licenseUsage, targets, announce, queue);
    // Scale-out: any API server may be asked for an inspection's heatmap, so they wait in the shared storage.
    const heatmaps = openInspectHeatmaps(files, Boolean(settings.databaseUrl));
    const modelsService = new ModelsService(models, items, files, licenses, licenseUsage, targets, queue);
    const training = new TrainingService(models, items, licenses, licenseUsage, targets, announce, queue);
    const samples = new SamplesService(new SampleProjectsRepository(db), licenses, targets, context.items, modelsService, training, prediction, temp);
    const running: RunningContext = {
      ...context,
      queue,
      pool,
      models: modelsService,
      training,
      prediction,
      inspection: new InspectionService(context.items, prediction, licenses, targets, files, queue, heatmaps),
      jobs: new JobsService(models, items, queue),
      samples,
      stop: async () => {
        // Sample projects first: they drive jobs, and stop at their next step.
        samples.stop();
        await queue.close();
        await context.close();
      },
    };
    await queue.start();
    context.callbacks.start();
    return running;
  } catch (error) {
    // Nothing may keep the process alive after a failed start (worker threads, pg-boss's timers).
    await pool?.close();
    await transport?.close().catch(() => {});
    await context.close();
    throw error;
  }
}

