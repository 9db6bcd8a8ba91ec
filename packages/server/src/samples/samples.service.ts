/**
 * The sample project of the web UI's "Load sample project" button: the same plan as `kensa demo` (engine
 * `samples/project.ts`) run inside the server as a background job — images uploaded to the target "Kensa demo",
 * defects of the defective training images boxed, the default algorithm trained, the held-back images predicted.
 * Training and prediction go through the job queue like any other; this job only drives them and reports
 * progress. Its record is kept in the database (any API server reports it); a run whose server stopped is
 * reported failed once its record has not moved for a while.
 */
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { DEFAULT_ALGORITHM_ID, findAlgorithm, planSampleProject, runSampleProject, sampleModelName, type SampleProduct } from '@kensa/engine';
import { render, type Language } from '../i18n/index.ts';
import type { ItemsService } from '../services/items.service.ts';
import { itemVerdict } from '../services/item-verdict.ts';
import type { LicenseService } from '../services/license.service.ts';
import type { ModelsService } from '../services/models.service.ts';
import type { PredictionService } from '../services/prediction.service.ts';
import type { TargetsService } from '../services/targets.service.ts';
import type { TrainingService } from '../services/training.service.ts';
import type { SampleProjectRow, SampleProjectsRepository, SampleProjectState, SampleStep } from '../store/sample-projects.repository.ts';
import type { TempFiles } from '../store/temp-files.ts';

export const SAMPLE_TARGET_NAME = 'Kensa demo';
const POLL_MS = 300;

/** A sample project as answers show it: its kept state without the client. */
export type SampleJob = Omit<SampleProjectState, 'client_id'>;

export interface SampleRequest {
  product?: SampleProduct;
  seed?: number;
  algorithm_id?: string;
  /** Default: the photos' own size (thin scratches fade when reduced). Tests make it small to be quick. */
  working_size?: number;
}

/** Share of the job's progress each step ends at. */
const STEP_END: Record<Exclude<SampleStep, 'done'>, number> = { images: 0.1, upload: 0.25, train: 0.8, predict: 1 };
const STEP_START: Record<Exclude<SampleStep, 'done'>, number> = { images: 0, upload: 0.1, train: 0.25, predict: 0.8 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running sample project whose record has not moved for this long lost its server. */
const ABANDONED_AFTER_MS = 120_000;

export class SamplesService {
  private stopped = false;
  /** When each running job of this process was last written (progress is written at most every half second). */
  private readonly lastSaved = new Map<string, number>();

  constructor(
    private readonly projects: SampleProjectsRepository,
    private readonly licenses: LicenseService,
    private readonly targets: TargetsService,
    private readonly items: ItemsService,
    private readonly models: ModelsService,
    private readonly training: TrainingService,
    private readonly prediction: PredictionService,
    private readonly temp: TempFiles,
  ) {}

  /** Starts the sample project, or returns the client's job still running (one at a time per client). */
  async start(clientId: string, request: SampleRequest, language: Language): Promise<SampleJob> {
    await this.licenses.requireActive(clientId);
    const running = (await this.jobsOf(clientId)).find((j) => j.status === 'running');
    if (running) return this.present(running);
    const algorithmId = request.algorithm_id ?? DEFAULT_ALGORITHM_ID;
    const job: SampleProjectState = {
      client_id: clientId, job_id: randomUUID(), status: 'running', step: 'images', progress: 0,
      product: request.product ?? 'metal', seed: request.seed ?? 1, algorithm_id: algorithmId,
      target_id: null, model_id: null, item_ids: [], results: null, error: null, started_at: new Date().toISOString(), finished_at: null,
    };
    await this.save(job, true);
    void this.run(job, request, language).then(
      () => { job.status = 'done'; job.step = 'done'; job.progress = 1; },
      (error: unknown) => { job.status = 'failed'; job.error = error instanceof Error ? error.message : String(error); },
    ).finally(() => {
      job.finished_at = new Date().toISOString();
      this.lastSaved.delete(job.job_id);
      return this.save(job, true).catch(() => { /* the database is closing: the record ends as abandoned */ });
    });
    return this.present(job);
  }

  async get(clientId: string, jobId: string): Promise<SampleJob | null> {
    const row = await this.projects.find(clientId, jobId);
    return row ? this.present(this.restore(row)) : null;
  }

  /** The client's jobs, newest first. */
  async list(clientId: string): Promise<SampleJob[]> {
    return (await this.jobsOf(clientId)).map((j) => this.present(j));
  }

  /** Running jobs stop at their next step (the server is closing). */
  stop(): void {
    this.stopped = true;
  }

  private async jobsOf(clientId: string): Promise<SampleProjectState[]> {
    return (await this.projects.ofClient(clientId)).map((row) => this.restore(row)).sort((a, b) => b.started_at.localeCompare(a.started_at));
  }

  private restore({ state: job, updated_at }: SampleProjectRow): SampleProjectState {
    if (job.status === 'running' && Date.now() - updated_at > ABANDONED_AFTER_MS) {
      return { ...job, status: 'failed', error: 'The server running the sample project stopped before it finished' };
    }
    return job;
  }

  private async save(job: SampleProjectState, always = false): Promise<void> {
    const now = Date.now();
    if (!always && now - (this.lastSaved.get(job.job_id) ?? 0) < 500) return;
    this.lastSaved.set(job.job_id, now);
    await this.projects.save(job, now);
  }

  private present(job: SampleProjectState): SampleJob {
    const { client_id: _client, ...rest } = job;
    return { ...rest, item_ids: [...rest.item_ids], results: rest.results && { ...rest.results } };
  }

  private async advance(job: SampleProjectState, step: Exclude<SampleStep, 'done'>, fraction: number): Promise<void> {
    if (this.stopped) throw new Error('The server is stopping');
    const stepChanged = job.step !== step;
    job.step = step;
    job.progress = Number((STEP_START[step] + (STEP_END[step] - STEP_START[step]) * Math.min(1, Math.max(0, fraction))).toFixed(3));
    await this.save(job, stepChanged);
  }

  /** The project's recipe is the engine's (the same as `kensa demo`'s); this brings the services and the job's progress. */
  private async run(job: SampleProjectState, request: SampleRequest, language: Language): Promise<void> {
    const clientId = job.client_id;
    const algorithm = findAlgorithm(job.algorithm_id);
    if (!algorithm) throw new Error(`Unknown algorithm ${job.algorithm_id}`);

    let target;
    try {
      target = await this.targets.resolve(clientId, SAMPLE_TARGET_NAME);
    } catch {
      await this.targets.create(clientId, { name: SAMPLE_TARGET_NAME });
      target = await this.targets.resolve(clientId, SAMPLE_TARGET_NAME);
    }
    job.target_id = target.target_id;
    const targetId = target.target_id;

    const plan = planSampleProject({ product: job.product, seed: job.seed });
    const { results } = await runSampleProject(plan, {
      onProgress: (progress) => (progress.step === 'images'
        ? this.advance(job, 'images', progress.done / progress.total)
        // Saved after each batch sent, not when a group opens.
        : progress.groupDone > 0 ? this.advance(job, 'upload', progress.done / progress.total) : undefined),
      upload: async (batch, upload) => {
        const files = batch.map(({ image }) => ({ fileName: image.fileName, temporaryPath: this.temp.newPath() }));
        try {
          await Promise.all(files.map((file, i) => writeFile(file.temporaryPath, batch[i].bytes)));
          await this.items.upload(clientId, files, { training: upload.training, good: upload.good, itemId: null, targetId });
        } finally {
          await this.temp.remove(files.map((file) => file.temporaryPath));
        }
      },
      annotate: async (itemId, boxes) => {
        const imageId = (await this.items.detail(clientId, itemId)).images[0].image.image_id;
        await this.items.annotate(clientId, imageId, boxes);
      },
      train: async ({ itemIds, workingSize }) => {
        job.item_ids = plan.heldBack.map((i) => i.itemId);
        const parameter = algorithm.parameters.find((p) => p.name === 'working_size');
        const model = await this.training.train(clientId, {
          algorithm_id: algorithm.id,
          name: sampleModelName(job.product, new Date(job.started_at)),
          override_params: parameter ? [{ algorithm_parameter_id: parameter.id, value: request.working_size ?? workingSize }] : [],
          item_ids: itemIds,
          target: targetId,
        });
        const modelId = model.model.model_id;
        job.model_id = modelId;
        for (;;) {
          const { model: current } = await this.models.get(clientId, String(modelId));
          if (current.status === 'failed') throw new Error(`Training failed: ${current.status_message ? render(language, current.status_message) : null}`);
          if (current.status === 'active') return modelId;
          await this.advance(job, 'train', current.progress);
          await sleep(POLL_MS);
        }
      },
      predict: async (itemIds, modelId) => {
        await this.prediction.serve(clientId, { item_ids: itemIds, model_id: modelId });
        for (;;) {
          const details = await Promise.all(itemIds.map((id) => this.items.detail(clientId, id)));
          const done = details.filter((d) => d.item.status === 'done');
          await this.advance(job, 'predict', done.length / details.length);
          if (done.length === details.length) return new Map(details.map((d) => [d.item.item_id, itemVerdict(d.item, d.assessments).computedGood]));
          await sleep(POLL_MS);
        }
      },
    });
    job.results = results;
  }
}
